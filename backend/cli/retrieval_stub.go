package cli

import "github.com/spf13/cobra"

func evalRetrievalCmd() *cobra.Command { return &cobra.Command{Use: "retrieval"} }
