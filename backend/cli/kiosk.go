package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"

	"voicebot/backend/config"
	"voicebot/backend/paths"
)

// MinPINLength is the shortest kiosk PIN accepted.
const MinPINLength = 4

func kioskPINCmd() *cobra.Command {
	var configFile, configDir string
	cmd := &cobra.Command{
		Use:   "kiosk-pin [--config FILE]",
		Short: "Set the PIN that lets the operator leave kiosk mode (read from standard input)",
		Long: `Set the kiosk PIN: the operator presses the exit keys (kiosk_exit_keys, default
` + config.DefaultKioskExitKeys + `) in the kiosk window and types this PIN to leave it. Only a bcrypt hash
is stored, as kiosk_pin_hash in the settings file (default: settings.yaml in the config folder,
created if missing). The PIN is read from the first line of standard input:

  echo 4711 | voicebot kiosk-pin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configFile == "" {
				dir := configDir
				if dir == "" {
					var err error
					if dir, err = paths.ConfigDir(); err != nil {
						return err
					}
				}
				configFile = paths.SettingsFile(dir)
			}
			if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				fmt.Fprint(cmd.ErrOrStderr(), "kiosk PIN (digits, at least 4): ")
			}
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			if err != nil && line == "" {
				return errors.New("no PIN on standard input")
			}
			pin := strings.TrimSpace(line)
			if err := CheckPIN(pin); err != nil {
				return err
			}
			hash, err := bcrypt.GenerateFromPassword([]byte(pin), bcrypt.DefaultCost)
			if err != nil {
				return err
			}
			if err := config.SetValue(configFile, "kiosk_pin_hash", string(hash)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "kiosk PIN set in %s (hash only); it applies at the next start\n", configFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "settings file to write (default: settings.yaml in the config folder)")
	cmd.Flags().StringVar(&configDir, "config-dir", "", "config folder (default $VOICEBOT_CONFIG_DIR, else the OS's per-user config folder)")
	return cmd
}

// CheckPIN accepts 4 to 12 digits.
func CheckPIN(pin string) error {
	if len(pin) < MinPINLength || len(pin) > 12 {
		return fmt.Errorf("the PIN must have %d to 12 digits", MinPINLength)
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return errors.New("the PIN must be digits only (the kiosk screen shows a keypad)")
		}
	}
	return nil
}
