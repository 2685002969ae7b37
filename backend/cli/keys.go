package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"voicebot/backend/appliance"
	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/store"
)

// withStore opens the store of the flags' data folder for one command.
func withStore(ctx context.Context, sf *storeFlags, fn func(db store.Backend) error) error {
	o, err := sf.options()
	if err != nil {
		return err
	}
	db, err := appliance.OpenStore(ctx, o)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list, revoke and rotate the API keys of LAN devices",
		Long: `The command line on the box is the root of trust: keys are made here (or by an admin key
over the API). A new key is printed once and never written to a file; only its SHA-256 is stored.`,
	}
	var sf storeFlags
	var name, rate string
	var scopes, origins []string
	var expires time.Duration
	create := &cobra.Command{
		Use:   "create --name N --scopes chat,voice,history,admin,metrics [--expires DUR] [--rate N/PERIOD] [--origins ...]",
		Short: "Create a key and print it once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), &sf, func(db store.Backend) error {
				plain, k, err := keys.NewService(db).Create(cmd.Context(), keys.Spec{Name: name, Scopes: scopes, Origins: origins, Rate: rate, Expires: expires}, "cli", "")
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), plain)
				fmt.Fprintf(cmd.ErrOrStderr(), "key %s (%s), scopes %s: store it now, it is not shown again\n", k.ID, k.Name, strings.Join(k.Scopes, ","))
				return nil
			})
		},
	}
	sf.add(create)
	create.Flags().StringVar(&name, "name", "", "what uses the key, e.g. \"lobby tablet\" (required)")
	create.Flags().StringSliceVar(&scopes, "scopes", nil, "comma-separated: chat, voice, history, admin, metrics (required)")
	create.Flags().StringSliceVar(&origins, "origins", nil, "browser origins allowed to use the key (default: any)")
	create.Flags().StringVar(&rate, "rate", "", "rate limit of this key per route, e.g. 60/m (default: the server's)")
	create.Flags().DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h (default: no expiry)")

	var lsf storeFlags
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the keys (never the keys themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), &lsf, func(db store.Backend) error {
				ks, err := keys.NewService(db).List(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(ks)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tSTATE\tUSES\tLAST USED")
				for _, k := range ks {
					state := "active"
					switch {
					case k.Revoked != nil:
						state = "revoked"
					case k.Expires != nil && time.Now().After(*k.Expires):
						state = "expired"
					case k.Expires != nil:
						state = "expires " + k.Expires.Format("2006-01-02")
					}
					last := "never"
					if k.LastUsed != nil {
						last = k.LastUsed.Format(time.DateTime)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), state, k.Uses, last)
				}
				return tw.Flush()
			})
		},
	}
	lsf.add(list)
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var rsf storeFlags
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key (a running server refuses it within 5 seconds)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), &rsf, func(db store.Backend) error {
				if err := keys.NewService(db).Revoke(cmd.Context(), args[0], "cli", ""); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "key %s revoked\n", args[0])
				return nil
			})
		},
	}
	rsf.add(revoke)

	var osf storeFlags
	rotate := &cobra.Command{
		Use:   "rotate ID",
		Short: "Replace a key by a new one with the same settings and print it once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), &osf, func(db store.Backend) error {
				plain, k, err := keys.NewService(db).Rotate(cmd.Context(), args[0], "cli", "")
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), plain)
				fmt.Fprintf(cmd.ErrOrStderr(), "key %s replaces %s, which no longer works\n", k.ID, args[0])
				return nil
			})
		},
	}
	osf.add(rotate)
	cmd.AddCommand(create, list, revoke, rotate)
	return cmd
}

func backupCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the store to FILE while the appliance runs (still encrypted, same key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd.Context(), &sf, func(db store.Backend) error {
				sq, ok := db.(*store.DB)
				if !ok {
					return fmt.Errorf("backup copies the SQLite store; the data is on PostgreSQL (%s): back it up with pg_dump (docs/OPERATIONS.md)", db.Describe())
				}
				if err := sq.Backup(cmd.Context(), args[0]); err != nil {
					return err
				}
				if err := db.Audit(cmd.Context(), store.AuditEntry{Actor: "cli", Action: "store.backup", Target: args[0]}); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: the backup was written but its audit entry was not: %v\n", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "backup written to %s; it opens only with the key file of this data folder: back that up too, apart\n", args[0])
				return nil
			})
		},
	}
	sf.add(cmd)
	return cmd
}

func exportCmd() *cobra.Command {
	var sf storeFlags
	var session string
	cmd := &cobra.Command{
		Use:   "export --session ID",
		Short: "Print everything stored about a conversation as JSON (audited)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), &sf, func(db store.Backend) error {
				x, err := history.New(db).Export(cmd.Context(), session, "cli", "")
				if err != nil {
					return err
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(x)
			})
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&session, "session", "", "session id (required)")
	_ = cmd.MarkFlagRequired("session")
	return cmd
}

func eraseCmd() *cobra.Command {
	var sf storeFlags
	var session string
	cmd := &cobra.Command{
		Use:   "erase --session ID",
		Short: "Delete a conversation and its messages (audited)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), &sf, func(db store.Backend) error {
				if err := history.New(db).Erase(cmd.Context(), session, "cli", ""); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "session %s erased\n", session)
				return nil
			})
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&session, "session", "", "session id (required)")
	_ = cmd.MarkFlagRequired("session")
	return cmd
}

func dashboardLinkCmd() *cobra.Command {
	var sf storeFlags
	var base string
	cmd := &cobra.Command{
		Use:   "dashboard-link [--data-dir DIR] [--base URL]",
		Short: "Print a one-time link that signs a browser in to the dashboard (valid 10 minutes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), &sf, func(db store.Backend) error {
				link, err := store.CreateLink(cmd.Context(), db, base)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), link)
				fmt.Fprintf(cmd.ErrOrStderr(), "open it within %s; it works once\n", store.LinkTTL)
				return nil
			})
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&base, "base", "http://"+appliance.DefaultListen, "the address browsers reach the appliance at")
	return cmd
}
