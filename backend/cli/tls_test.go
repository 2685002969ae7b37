package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"voicebot/backend/appliance"
	"voicebot/backend/certs"
)

// TestTLSCA: `voicebot tls ca` prints the CA's certificate alone on stdout (no key), the same
// one on every call, and it is the CA the appliance started on that data folder uses.
func TestTLSCA(t *testing.T) {
	t.Setenv("VOICEBOT_NO_KEYRING", "1")
	data, conf := t.TempDir(), t.TempDir()
	print := func() (string, string) {
		root := Root()
		var out, errb bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errb)
		root.SetArgs([]string{"tls", "ca", "--data-dir", data, "--config-dir", conf})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String()
	}
	first, info := print()
	blk, rest := pem.Decode([]byte(first))
	if blk == nil || blk.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
		t.Fatalf("stdout is not one PEM certificate: %q", first)
	}
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("not a CA certificate: %v", err)
	}
	if !strings.Contains(info, certs.Fingerprint(ca)) {
		t.Fatalf("stderr %q lacks the fingerprint %s", info, certs.Fingerprint(ca))
	}
	if again, _ := print(); again != first {
		t.Fatal("a second call printed another CA")
	}
	a, err := appliance.Start(context.Background(), appliance.Options{DataDir: data, ConfigDir: conf, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	if a.CAFingerprint() != certs.Fingerprint(ca) {
		t.Fatal("the appliance uses another CA than `tls ca` printed")
	}
}
