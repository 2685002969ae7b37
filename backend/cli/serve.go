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
	"voicebot/backend/config"
	"voicebot/backend/paths"
)

// storeFlags are the flags every command that opens the store takes.
type storeFlags struct {
	dataDir, configDir, store string
}

func (f *storeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "", "data folder (default $VOICEBOT_DATA_DIR, else the OS's per-user data folder)")
	cmd.Flags().StringVar(&f.configDir, "config-dir", "", "folder of the store's key file (default $VOICEBOT_CONFIG_DIR, else the OS's per-user config folder)")
	cmd.Flags().StringVar(&f.store, "store", "", "where the data lives: sqlite (the default: the encrypted file in the data folder) or postgres://user@host:5432/db?sslmode=verify-full (default: store: in the settings file; see docs/OPERATIONS.md)")
}

// options are the options of a command that opens the store: the flags, and the settings
// file's store: when --store is not given.
func (f *storeFlags) options() (appliance.Options, error) {
	o := appliance.Options{DataDir: f.dataDir, ConfigDir: f.configDir, Store: f.store, Version: Version}
	if err := o.Resolve(); err != nil {
		return o, err
	}
	if o.Store == "" {
		if p := paths.SettingsFile(o.ConfigDir); fileExists(p) {
			s, err := config.Load(p)
			if err != nil {
				return o, err
			}
			o.Store = s.Store
			o.Appliance = s.Appliance // the name this node's audit entries carry on a shared store
		}
	}
	return o, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// serveFlags are the flags of the core, shared by `voicebot serve` and the plain `voicebot`
// (which opens the desktop window when there is one).
type serveFlags struct {
	store                                     storeFlags
	listen, contentDir, rateLimit, configFile string
	cors                                      []string
	retention                                 time.Duration
	wyoming                                   string
	wyomingLAN                                bool
	appliance                                 string
}

func (f *serveFlags) add(cmd *cobra.Command) {
	f.store.add(cmd)
	cmd.Flags().StringVar(&f.configFile, "config", "", "settings file (YAML, watched: live settings apply on save; default: settings.yaml in the config folder when it exists; see docs/OPERATIONS.md)")
	cmd.Flags().StringVar(&f.listen, "listen", "", "address to listen on (default "+appliance.DefaultListen+"); a LAN address opens the API to the LAN (keys still required)")
	cmd.Flags().StringVar(&f.contentDir, "content", "", "content pack folder (default: the built-in demo)")
	cmd.Flags().StringVar(&f.rateLimit, "rate", "", "default rate limit per key and route, requests/period with s, m or h (default "+appliance.DefaultRate+")")
	cmd.Flags().StringSliceVar(&f.cors, "cors", nil, "browser origins allowed to call the API, e.g. http://kiosk.local:8080")
	cmd.Flags().DurationVar(&f.retention, "retention", 0, "delete conversations idle for longer than this, e.g. 720h (0 keeps them)")
	cmd.Flags().StringVar(&f.wyoming, "wyoming", "", "offer speech and conversation to Home Assistant over the Wyoming protocol at this address, e.g. 127.0.0.1:10700 (default: off)")
	cmd.Flags().StringVar(&f.appliance, "appliance", "", "this appliance's name in a fleet sharing a PostgreSQL store: its turns and audit entries carry it (default: appliance: in the settings file, else the host name)")
	cmd.Flags().BoolVar(&f.wyomingLAN, "wyoming-allow-lan", false, "let --wyoming listen on a non-loopback address: the Wyoming protocol has no authentication (docs/OPERATIONS.md)")
}

// options are the appliance options the flags give, with the default settings file.
func (f *serveFlags) options() (appliance.Options, error) {
	o := appliance.Options{DataDir: f.store.dataDir, ConfigDir: f.store.configDir, Store: f.store.store, Version: Version}
	o.Listen, o.ContentDir, o.RateLimit, o.CORS, o.Retention, o.ConfigFile = f.listen, f.contentDir, f.rateLimit, f.cors, f.retention, f.configFile
	o.Wyoming, o.WyomingAllowLAN = f.wyoming, f.wyomingLAN
	o.Appliance = f.appliance
	o.LogLevel = logLevel
	o.SetLogFormat = setLogFormat
	o.VisitorUI = VisitorUI
	if o.ConfigFile == "" {
		dir := o.ConfigDir
		if dir == "" {
			var err error
			if dir, err = paths.ConfigDir(); err != nil {
				return o, err
			}
		}
		if _, err := os.Stat(paths.SettingsFile(dir)); err == nil {
			o.ConfigFile = paths.SettingsFile(dir)
		}
	}
	return o, nil
}

func serveCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [--data-dir DIR] [--listen ADDR] [--content DIR]",
		Short: "Run the appliance headless: the LAN API over the conversation engine",
		Long: `Run the appliance with no window: the store, the conversation engine on the content (the
built-in demo without --content; a folder is watched and reloaded on every save) and the LAN API.
It listens on loopback unless --listen names another address; every route but /healthz needs a
key (voicebot keys create). Stop it with Ctrl-C or SIGTERM: requests in flight finish first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := f.options()
			if err != nil {
				return err
			}
			return serveHeadless(cmd, o)
		},
	}
	f.add(cmd)
	return cmd
}

// serveHeadless runs the core until Ctrl-C or SIGTERM.
func serveHeadless(cmd *cobra.Command, o appliance.Options) error {
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
	if w := a.WyomingAddr(); w != "" {
		fmt.Fprintf(cmd.OutOrStdout(), "Wyoming server for Home Assistant on %s (no authentication: see docs/OPERATIONS.md)\n", w)
	}
	for _, e := range st.Errors {
		fmt.Fprintf(cmd.ErrOrStderr(), "content error: %s\n", e.Error())
	}
	<-ctx.Done()
	fmt.Fprintln(cmd.OutOrStdout(), "stopping")
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.Close(shut)
}
