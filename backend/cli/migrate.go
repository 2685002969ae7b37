package cli

// voicebot migrate: copy the data folder's SQLite store into PostgreSQL (backend/store/pgmigrate)
// and say how to switch the appliance over.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"voicebot/backend/appliance"
	"voicebot/backend/config"
	"voicebot/backend/paths"
	"voicebot/backend/store"
	"voicebot/backend/store/pgmigrate"
	"voicebot/backend/store/postgres"
)

func migrateCmd() *cobra.Command {
	var dataDir, configDir, to, name string
	var batch int
	var merge, restart bool
	cmd := &cobra.Command{
		Use:   "migrate --to postgres://user@host:5432/db?sslmode=verify-full [--data-dir DIR] [--config-dir DIR] [--appliance NAME] [--batch N] [--merge] [--restart]",
		Short: "Copy this appliance's SQLite store into PostgreSQL (resumable, counts verified) and say how to switch over",
		Long: `Copy the data folder's SQLite store (sessions with their memory, messages, API keys, the audit
log, the metrics history, the TLS material, paired screens, unused sign-in links) into a PostgreSQL
database, then verify the counts table by table.

The appliance must be stopped: the command refuses while it runs on the data folder, and keeps it
from starting until the copy ends. Each batch is committed with the copy's progress, so a copy
that is interrupted (Ctrl-C, a lost connection, kill -9) goes on where it stopped when the same
command is run again, with no row twice; run after it finished, it says so and verifies again.

The database must be empty of VoiceBot data, unless --merge: then this appliance's data is added
beside what is there (another appliance's; the fleet's CA, if there is one, is kept). The
password is best left out of the URL (PGPASSWORD or ~/.pgpass); it is never printed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return errors.New("--to is required: the PostgreSQL database to copy into, postgres://user@host:5432/db?sslmode=verify-full")
			}
			if !postgres.IsDSN(to) {
				return fmt.Errorf("--to %s: give a PostgreSQL URL, postgres://user@host:5432/db?sslmode=verify-full", postgres.Redact(to))
			}
			o := appliance.Options{DataDir: dataDir, ConfigDir: configDir}
			if err := o.Resolve(); err != nil {
				return err
			}
			if name == "" {
				var err error
				if name, err = applianceName(o.ConfigDir); err != nil {
					return err
				}
			} else if !config.ValidAppliance(name) {
				return fmt.Errorf("--appliance %q: give a name of 1 to 63 letters a-z, digits and hyphens, e.g. kiosk-lobby", name)
			}
			return runMigrate(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, to, pgmigrate.Options{Appliance: name, Batch: batch, Merge: merge, Restart: restart})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the PostgreSQL database to copy into (required)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data folder of the SQLite store (default $VOICEBOT_DATA_DIR, else the OS's per-user data folder)")
	cmd.Flags().StringVar(&configDir, "config-dir", "", "folder of the store's key file and the settings file (default $VOICEBOT_CONFIG_DIR, else the OS's per-user config folder)")
	cmd.Flags().StringVar(&name, "appliance", "", "this appliance's name on the shared database (default: appliance: in the settings file, else the host name)")
	cmd.Flags().IntVar(&batch, "batch", pgmigrate.DefaultBatch, fmt.Sprintf("rows per transaction (1 to %d)", pgmigrate.MaxBatch))
	cmd.Flags().BoolVar(&merge, "merge", false, "copy into a database that already holds other appliances' data")
	cmd.Flags().BoolVar(&restart, "restart", false, "throw away an earlier copy of this store (the database's VoiceBot tables are emptied) and copy afresh")
	return cmd
}

// runMigrate opens both stores and runs the copy; progress goes to errOut, the verification and
// the way to switch over to out.
func runMigrate(ctx context.Context, out, errOut io.Writer, o appliance.Options, to string, mo pgmigrate.Options) error {
	file := paths.StoreFile(o.DataDir)
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("no SQLite store at %s: nothing to migrate (is --data-dir the appliance's data folder?)", file)
	}
	inst, err := appliance.HoldInstance(o.DataDir)
	if errors.Is(err, appliance.ErrRunning) {
		return fmt.Errorf("%w: stop it first (systemctl stop voicebot, or quit the window), then run voicebot migrate again: "+
			"the copy must see a store that no turn is being written to", err)
	}
	if err != nil {
		return err
	}
	defer inst.Release()
	keyFile := paths.KeyFile(o.ConfigDir, o.DataDir)
	key, keySource, err := store.LoadKey(keyFile, file)
	if err != nil {
		return err
	}
	src, err := store.Open(ctx, file, key)
	if err != nil {
		return err
	}
	defer src.Close()
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	dst, err := postgres.Open(octx, to, mo.Appliance)
	cancel()
	if err != nil {
		return fmt.Errorf("cannot use the database: %w", err)
	}
	defer dst.Close()
	mo.Source, mo.Target, mo.Progress, mo.Terminal = src, dst, errOut, isTerminal(errOut)
	fmt.Fprintf(errOut, "copying %s (store %s) into %s as appliance %q\n", file, src.Identity(), postgres.Redact(to), mo.Appliance)
	res, err := pgmigrate.Run(ctx, mo)
	if err != nil {
		return err
	}
	switch {
	case res.AlreadyComplete:
		fmt.Fprintln(out, "This store was copied already: nothing to do. Counts as copied:")
	case res.Resumed:
		fmt.Fprintln(out, "The copy begun earlier is complete. Counts:")
	default:
		fmt.Fprintln(out, "Counts:")
	}
	bad := printCounts(out, res)
	if bad != nil {
		return fmt.Errorf("the counts differ (%s): the copy is not complete; run voicebot migrate again, and report it if they still differ", strings.Join(bad, ", "))
	}
	for _, n := range res.Notes {
		fmt.Fprintln(out, n)
	}
	keyWhere := keyFile
	switch keySource {
	case "env":
		keyWhere = "VOICEBOT_STORE_KEY"
	case "keyring":
		keyWhere = "the OS keyring entry " + store.KeyringService + " for " + keyFile
	}
	fmt.Fprintf(out, `
The data is in PostgreSQL. To switch this appliance over:
  1. Name the database in the settings file %s:
       store: %s
       appliance: %s
     (or start the appliance with --store and --appliance). The URL is shown without its
     password: give it in PGPASSWORD in the service's environment or in ~/.pgpass of the user
     the appliance runs as (better than in the settings file), or write it back into the URL.
  2. Start the appliance again (systemctl start voicebot, or open it): it now reads and writes
     PostgreSQL, under the name %q.
  3. Keep %s
     with its key (%s) as the backup of the data up to now: the key is needed to read it,
     and PostgreSQL does not use it (back the database up with pg_dump from now on).
     Do not run the appliance on the SQLite file again: what it wrote there would not be in
     PostgreSQL (voicebot migrate would then refuse, and --restart copies afresh).
`, paths.SettingsFile(o.ConfigDir), withoutPassword(to), mo.Appliance, mo.Appliance, file, keyWhere)
	return nil
}

// withoutPassword is the URL with no password in it (Redact's placeholder would be copied into a
// settings file as the password).
func withoutPassword(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return postgres.Redact(dsn)
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// printCounts prints the verification table and returns the tables whose counts differ.
func printCounts(w io.Writer, res pgmigrate.Result) []string {
	var bad []string
	fmt.Fprintf(w, "  %-16s %10s %10s %8s %10s %9s  %s\n", "TABLE", "SQLITE", "COPIED", "KEPT", "POSTGRES", "CONTENT", "")
	for _, t := range res.Tables {
		target := "-"
		if t.Target >= 0 {
			target = fmt.Sprint(t.Target)
		}
		state := "ok"
		if !t.OK {
			state = "DIFFERENT"
			bad = append(bad, t.Table)
		}
		content := t.Content
		if content == "" {
			content = "-"
		}
		fmt.Fprintf(w, "  %-16s %10d %10d %8d %10s %9s  %s\n", t.Table, t.Source, t.Copied, t.Kept, target, content, state)
	}
	return bad
}

// isTerminal reports whether w is a terminal (progress redrawn in place) rather than a file or pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// applianceName is this appliance's name on a shared database, as `serve` takes it: appliance:
// in the settings file of the config folder, else the host name (config.DefaultAppliance).
func applianceName(configDir string) (string, error) {
	if p := paths.SettingsFile(configDir); fileExists(p) {
		s, err := config.Load(p)
		if err != nil {
			return "", err
		}
		if s.Appliance != "" {
			return s.Appliance, nil
		}
	}
	return config.DefaultAppliance(), nil
}
