package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestRedact: the name a store is logged and shown by never holds the DSN's password, in any of
// the forms a DSN may carry it; and a DSN that cannot be used is refused without quoting it.
func TestRedact(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://vb:s3cret@db.lan:5432/voicebot?sslmode=verify-full": "postgres://vb:xxxxx@db.lan:5432/voicebot?sslmode=verify-full",
		"postgresql://vb@db.lan/voicebot?password=s3cret":               "postgresql://vb@db.lan/voicebot?password=xxxxx",
		"postgres://vb@db.lan/voicebot":                                 "postgres://vb@db.lan/voicebot",
		"host=db.lan user=vb password=s3cret dbname=voicebot":           "host=db.lan user=vb password=xxxxx dbname=voicebot",
		"host=db.lan password='s3 cret' dbname=voicebot":                "host=db.lan password=xxxxx dbname=voicebot",
	} {
		if got := Redact(dsn); got != want || strings.Contains(got, "s3") {
			t.Errorf("Redact(%q) = %q, want %q", dsn, got, want)
		}
	}
	_, err := Open(context.Background(), "postgres://vb:s3cret@db.lan:notaport/voicebot", "a")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a bad DSN: %v", err)
	}
	if msg := redactErr(errors.New(`failed: password=s3cret host=x`), ""); strings.Contains(msg, "s3cret") {
		t.Errorf("redactErr: %s", msg)
	}
}
