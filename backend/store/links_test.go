package store

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// A sign-in link made by CreateLink works once, is audited, and a base that is not an address
// is refused; tokens never seen, empty or overlong are refused without a write.
func TestLinksWorkOnce(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "v.db"), testKey(3))
	if _, err := CreateLink(ctx, db, "kiosk.local"); err == nil {
		t.Fatal("a base without a scheme was accepted")
	}
	link, err := CreateLink(ctx, db, "http://127.0.0.1:8750/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "http://127.0.0.1:8750/dashboard/link?t=") {
		t.Fatalf("link %q", link)
	}
	u, _ := url.Parse(link)
	tok := u.Query().Get("t")
	for i, want := range []bool{true, false} {
		if used, err := UseLink(ctx, db, tok); err != nil || used != want {
			t.Fatalf("use %d: %v %v, want %v", i+1, used, err, want)
		}
	}
	for _, bad := range []string{"", "never-made", strings.Repeat("x", 100)} {
		if used, err := UseLink(ctx, db, bad); err != nil || used {
			t.Fatalf("token %q: %v %v", bad, used, err)
		}
	}
	log, err := db.AuditSearch(ctx, AuditFilter{Action: "dashboard.link_created"})
	if err != nil || len(log) != 1 || log[0].Actor != "cli" {
		t.Fatalf("audit %+v %v", log, err)
	}
}
