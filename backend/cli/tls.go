package cli

// `voicebot tls ca`: the appliance's certificate authority, printed so that an operator can
// hand it to the devices that must trust the appliance's HTTPS (docs/OPERATIONS.md).

import (
	"fmt"

	"github.com/spf13/cobra"

	"voicebot/backend/appliance"
	"voicebot/backend/certs"
	"voicebot/backend/store"
)

func tlsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tls",
		Short: "The appliance's certificate authority for HTTPS on the LAN",
	}
	var sf storeFlags
	ca := &cobra.Command{
		Use:   "ca",
		Short: "Print the CA's certificate (PEM) on stdout and its SHA-256 fingerprint on stderr",
		Long: `Print the certificate of the appliance's own certificate authority, which signs the
certificate its LAN listener presents. It is public: install it on the tablets and computers that
open the appliance over HTTPS (docs/OPERATIONS.md says how on each system). The CA is made on
first use, in the encrypted store; its private key never leaves it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd.Context(), &sf, func(db store.Backend) error {
				p, err := appliance.LoadCA(cmd.Context(), db)
				if err != nil {
					return err
				}
				if _, err := cmd.OutOrStdout().Write(p.CertPEM); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "SHA-256 fingerprint %s, valid until %s\n", certs.Fingerprint(p.Cert), p.Cert.NotAfter.UTC().Format("2006-01-02"))
				return nil
			})
		},
	}
	sf.add(ca)
	cmd.AddCommand(ca)
	return cmd
}
