package cli

// `voicebot discover`: the appliances that answer on the LAN over mDNS (_voicebot._tcp).

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"voicebot/backend/discovery"
)

func discoverCmd() *cobra.Command {
	var wait time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "discover [--wait 2s] [--json]",
		Short: "List the VoiceBot appliances on the LAN (mDNS/DNS-SD)",
		Long: `Ask the LAN over mDNS for VoiceBot appliances (DNS-SD service _voicebot._tcp) and list
each one's name, version, https address and CA fingerprint (compare it with the one its dashboard
shows before trusting its CA). An appliance advertises itself while it listens beyond loopback,
unless its settings say discovery: false.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			found, err := discovery.Browse(cmd.Context(), wait)
			if err != nil {
				return err
			}
			if asJSON {
				if found == nil {
					found = []discovery.Found{}
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(found)
			}
			if len(found) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no appliance answered")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tADDRESS\tHOST\tCA FINGERPRINT (SHA-256)")
			for _, f := range found {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Name, f.Version, f.URL, f.Host, f.CAFingerprint)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Second, "how long to collect answers")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
