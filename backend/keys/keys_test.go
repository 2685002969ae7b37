package keys

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"voicebot/backend/store"
)

func TestFormat(t *testing.T) {
	k, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k, "vb_") || len(k) != 41 {
		t.Fatalf("key %q", k)
	}
	id, err := Parse(k)
	if err != nil || id != k[3:11] {
		t.Fatalf("parse: %q %v", id, err)
	}
	typo := []byte(k)
	typo[10] ^= 1 // a neighbouring character
	if _, err := Parse(string(typo)); !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrMalformed) {
		t.Errorf("typo accepted: %v", err)
	}
	for _, bad := range []string{"", "vb_", k[:40], k + "x", "xx" + k[2:], strings.Replace(k, k[5:6], "-", 1), strings.Repeat("a", 10000)} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func newService(t *testing.T) *Service {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return NewService(db)
}

func TestLifecycle(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	plain, k, err := s.Create(ctx, Spec{Name: "lobby tablet", Scopes: []string{"chat"}, Origins: []string{"http://kiosk.local"}, Rate: "60/m"}, "cli", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Verify(ctx, plain)
	if err != nil || got.ID != k.ID || !got.Has("chat") || got.Has("admin") || !got.AllowsOrigin("http://kiosk.local") || got.AllowsOrigin("http://evil.example") {
		t.Fatalf("verify: %+v %v", got, err)
	}
	other, _ := Generate()
	if _, err := s.Verify(ctx, other); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown key: %v", err)
	}
	if err := s.FlushUsage(ctx); err != nil {
		t.Fatal(err)
	}
	if k2, _ := s.Get(ctx, k.ID); k2.Uses != 1 || k2.LastUsed == nil {
		t.Errorf("usage not recorded: %+v", k2)
	}
	// rotate: the new key works, the old one is refused at once
	plain2, k2, err := s.Rotate(ctx, k.ID, "cli", "")
	if err != nil || k2.RotatedFrom != k.ID || k2.Name != "lobby tablet" {
		t.Fatalf("rotate: %+v %v", k2, err)
	}
	if _, err := s.Verify(ctx, plain); !errors.Is(err, ErrRevoked) {
		t.Errorf("old key after rotation: %v", err)
	}
	if _, err := s.Verify(ctx, plain2); err != nil {
		t.Errorf("new key: %v", err)
	}
	if err := s.Revoke(ctx, k2.ID, "cli", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(ctx, plain2); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked key: %v", err)
	}
	if err := s.Revoke(ctx, "nope1234", "cli", ""); !errors.Is(err, ErrNoKey) {
		t.Errorf("revoke unknown: %v", err)
	}
	list, _ := s.List(ctx)
	if len(list) != 2 {
		t.Errorf("list: %d keys", len(list))
	}
	log, _ := s.db.(*store.DB).AuditLog(ctx, 0, 10)
	if len(log) != 3 || log[0].Action != "key.revoke" || log[2].Action != "key.create" {
		t.Errorf("audit: %+v", log)
	}
}

func TestExpiry(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	plain, _, err := s.Create(ctx, Spec{Name: "x", Scopes: []string{"chat"}, Expires: time.Millisecond}, "cli", "")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := s.Verify(ctx, plain); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: %v", err)
	}
}

func TestSpecValidation(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	bad := []Spec{
		{Name: "", Scopes: []string{"chat"}},
		{Name: "x"},
		{Name: "x", Scopes: []string{"root"}},
		{Name: "x", Scopes: []string{"chat"}, Origins: []string{"kiosk.local"}},
		{Name: "x", Scopes: []string{"chat"}, Rate: "fast"},
		{Name: "x", Scopes: []string{"chat"}, Rate: "0/m"},
	}
	for _, sp := range bad {
		if _, _, err := s.Create(ctx, sp, "cli", ""); err == nil {
			t.Errorf("accepted %+v", sp)
		}
	}
}
