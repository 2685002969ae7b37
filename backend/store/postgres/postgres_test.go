package postgres_test

import (
	"context"
	"testing"

	"voicebot/backend/internal/pgtest"
	"voicebot/backend/store"
	"voicebot/backend/store/postgres"
	"voicebot/backend/store/storetest"
)

// TestConformance runs the store test suite (backend/store/storetest), the one SQLite passes, on
// a real PostgreSQL server: a throwaway cluster (backend/internal/pgtest), a fresh database for
// each test.
func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Backend {
		db, err := postgres.Open(context.Background(), srv.NewDatabase(t), "conformance")
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
