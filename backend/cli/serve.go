package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"voicebot/backend/appliance"
)

// storeFlags are the flags every command that opens the store takes.
type storeFlags struct {
	dataDir, configDir string
}

func (f *storeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "", "data folder (default $VOICEBOT_DATA_DIR, else the OS's per-user data folder)")
	cmd.Flags().StringVar(&f.configDir, "config-dir", "", "folder of the store's key file (default $VOICEBOT_CONFIG_DIR, else the OS's per-user config folder)")
}

func (f *storeFlags) options() (appliance.Options, error) {
	o := appliance.Options{DataDir: f.dataDir, ConfigDir: f.configDir, Version: Version}
	return o, o.Resolve()
}

func serveCmd() *cobra.Command {
	var sf storeFlags
	var listen, contentDir, rateLimit, configFile string
	var cors []string
	var retention time.Duration
	cmd := &cobra.Command{
		Use:   "serve [--data-dir DIR] [--listen ADDR] [--content DIR]",
		Short: "Run the appliance headless: the LAN API over the conversation engine",
		Long: `Run the appliance with no window: the store, the conversation engine on the content (the
built-in demo without --content; a folder is watched and reloaded on every save) and the LAN API.
It listens on loopback unless --listen names another address; every route but /healthz needs a
key (voicebot keys create). Stop it with Ctrl-C or SIGTERM: requests in flight finish first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := appliance.Options{DataDir: sf.dataDir, ConfigDir: sf.configDir, Version: Version}
			o.Listen, o.ContentDir, o.RateLimit, o.CORS, o.Retention, o.ConfigFile = listen, contentDir, rateLimit, cors, retention, configFile
			o.LogLevel = logLevel
			o.VisitorUI = VisitorUI
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			start := time.Now()
			a, err := appliance.Start(ctx, o)
			if err != nil {
				return err
			}
			st := a.Loader.Status()
			fmt.Fprintf(cmd.OutOrStdout(), "VoiceBot %s serving on http://%s (ready in %d ms; content %q version %d, %d intents, %d documents; data %s)\n",
				Version, a.Addr(), time.Since(start).Milliseconds(), st.Source, st.Version, st.Intents, st.Documents, a.Opts.DataDir)
			for _, e := range st.Errors {
				fmt.Fprintf(cmd.ErrOrStderr(), "content error: %s\n", e.Error())
			}
			<-ctx.Done()
			fmt.Fprintln(cmd.OutOrStdout(), "stopping")
			shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return a.Close(shut)
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&configFile, "config", "", "settings file (YAML, watched: live settings apply on save; see docs/OPERATIONS.md)")
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default "+appliance.DefaultListen+"); a LAN address opens the API to the LAN (keys still required)")
	cmd.Flags().StringVar(&contentDir, "content", "", "content pack folder (default: the built-in demo)")
	cmd.Flags().StringVar(&rateLimit, "rate", "", "default rate limit per key and route, requests/period with s, m or h (default "+appliance.DefaultRate+")")
	cmd.Flags().StringSliceVar(&cors, "cors", nil, "browser origins allowed to call the API, e.g. http://kiosk.local:8080")
	cmd.Flags().DurationVar(&retention, "retention", 0, "delete conversations idle for longer than this, e.g. 720h (0 keeps them)")
	return cmd
}
