package store_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"voicebot/backend/store"
	"voicebot/backend/store/storetest"
)

// TestConformance runs the store test suite (backend/store/storetest) on SQLite, the suite the
// PostgreSQL store passes too (backend/store/postgres).
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "v.db"), bytes.Repeat([]byte{4}, 32))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestConformanceWithOutbox runs the same suite on a SQLite store that keeps a fleet outbox
// (a kiosk with fleet: settings): writing the outbox rows in the same transactions changes
// nothing the consumers see.
func TestConformanceWithOutbox(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		db, err := store.OpenWith(context.Background(), filepath.Join(t.TempDir(), "v.db"), bytes.Repeat([]byte{4}, 32), store.Options{Outbox: true})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
