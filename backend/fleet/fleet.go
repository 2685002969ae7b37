// Package fleet ships a kiosk's outbox to the fleet's PostgreSQL database (fleet: in the
// settings). The kiosk keeps its own SQLite store and answers from it whatever the network does;
// every turn, audit entry, erase and purge also lands in the store's outbox in the same
// transaction (backend/store, outbox.go). The Shipper reads the outbox in seq order, ships up to
// Batch rows in one PostgreSQL transaction (backend/store/postgres, fleet.go: rows at or below
// the kiosk's high-water mark are skipped, so a batch shipped twice is applied once), and then
// deletes them locally. While the database is away it retries with exponential backoff and
// jitter; it never holds the store's writer for more than one DELETE per batch, so a visitor's
// turn does not wait on it.
package fleet

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"voicebot/backend/store"
)

// Local is the kiosk's store: *store.DB opened with Options{Outbox: true}.
type Local interface {
	OutboxPeek(ctx context.Context, limit int) ([]store.OutboxRow, error)
	OutboxDone(ctx context.Context, seq int64) error
	OutboxStats(ctx context.Context) (store.OutboxBacklog, error)
	OutboxAlign(ctx context.Context, mark int64) (int64, error)
}

// Remote is the fleet database: *postgres.DB.
type Remote interface {
	Ingest(ctx context.Context, src store.OutboxSource, rows []store.OutboxRow, left store.OutboxBacklog, nowMs int64) (int64, error)
	ShippedSeq(ctx context.Context, appliance, storeID string) (int64, error)
	Close() error
}

// Config is a shipper's.
type Config struct {
	Appliance string        // the kiosk's name, stamped on the rows it ships
	StoreID   string        // the kiosk store's identity (store.DB.Identity): its seqs are that store's
	Version   string        // the kiosk's version, for the fleet's appliances list
	Started   time.Time     // when the kiosk started, likewise
	Batch     int           // outbox rows per shipment
	Interval  time.Duration // between shipments when the outbox is empty; the first retry's wait
	// MaxBackoff bounds the wait between attempts while the database is away (default 30 s).
	MaxBackoff time.Duration
	// Open connects to the fleet database (postgres.Open with the fleet: URL); it is called
	// until it succeeds, so that a kiosk starts with its database away.
	Open func(ctx context.Context) (Remote, error)
	// Describe names the database for the log, without its password.
	Describe string
}

// Status is what the shipper reports: the dashboard and /metrics show it.
type Status struct {
	Backlog      store.OutboxBacklog // what waits in the outbox (at the last look)
	LastContact  time.Time           // the last batch or heartbeat the database committed (zero: none yet)
	LastShip     time.Time           // the last batch that carried rows
	Shipped      int64               // outbox rows shipped since start
	Errors       int64               // failed attempts since start
	LastError    string              // the last attempt's error, "" after a success
	Reachable    bool                // the last attempt reached the database
	MaxBacklog   int64               // the most rows seen waiting since start
	CatchingUp   bool                // more rows wait than one batch
	ShippedSeq   int64               // the fleet database's high-water mark for this kiosk
	Appliance    string
	Database     string // Describe
	BatchSize    int
	IntervalTime time.Duration
}

// Shipper ships one kiosk's outbox.
type Shipper struct {
	local  Local
	cfg    Config
	remote Remote
	mu     sync.Mutex
	st     Status
	kick   chan struct{}
}

// New makes a shipper; Run starts it.
func New(local Local, cfg Config) *Shipper {
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.Interval)
	return &Shipper{local: local, cfg: cfg, kick: make(chan struct{}, 1),
		st: Status{Appliance: cfg.Appliance, Database: cfg.Describe, BatchSize: cfg.Batch, IntervalTime: cfg.Interval}}
}

// Status is the shipper's state now.
func (s *Shipper) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// Kick has the shipper try at once (a test, or an operator's "ship now").
func (s *Shipper) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// attemptTimeout bounds one attempt (open, ship, delete), so that a database that went away
// without closing its connections (a cut cable) is noticed.
const attemptTimeout = 20 * time.Second

// Run ships until ctx ends, then closes the connection to the fleet database.
func (s *Shipper) Run(ctx context.Context) {
	defer func() {
		if s.remote != nil {
			s.remote.Close()
		}
	}()
	backoff := s.cfg.Interval
	failing := false
	for ctx.Err() == nil {
		more, err := s.attempt(ctx)
		var wait time.Duration
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				slog.Warn("fleet database unreachable: the outbox keeps the turns until it is back", "database", s.cfg.Describe, "err", err)
			}
			failing = true
			// full jitter over the upper half: kiosks cut off together do not all come back at once
			wait = backoff/2 + rand.N(backoff/2+1)
			backoff = min(backoff*2, s.cfg.MaxBackoff)
		default:
			if failing {
				st := s.Status()
				slog.Info("fleet database reachable again: catching up", "database", s.cfg.Describe, "backlog", st.Backlog.Rows)
			}
			failing = false
			backoff = s.cfg.Interval
			if more {
				continue
			}
			wait = s.cfg.Interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// attempt ships one batch (or, with the outbox empty, a heartbeat); more says that more rows
// wait.
func (s *Shipper) attempt(parent context.Context) (more bool, err error) {
	ctx, cancel := context.WithTimeout(parent, attemptTimeout)
	defer cancel()
	defer func() {
		s.mu.Lock()
		s.st.Reachable = err == nil
		if err != nil {
			s.st.Errors++
			s.st.LastError = err.Error()
		} else {
			s.st.LastError = ""
		}
		s.mu.Unlock()
	}()
	backlog, err := s.local.OutboxStats(ctx) // measured also while the database is away
	if err != nil {
		return false, err
	}
	s.noteBacklog(backlog)
	if s.remote == nil {
		if err := s.connect(ctx); err != nil {
			return false, err
		}
		if backlog, err = s.local.OutboxStats(ctx); err != nil { // connect deleted what was shipped
			return false, err
		}
	}
	rows, err := s.local.OutboxPeek(ctx, s.cfg.Batch+1)
	if err != nil {
		return false, err
	}
	more = len(rows) > s.cfg.Batch
	left := store.OutboxBacklog{LastSeq: backlog.LastSeq}
	if more {
		left.OldestMs = rows[s.cfg.Batch].AtMs
		rows = rows[:s.cfg.Batch]
	}
	var shippedBytes int64
	for _, r := range rows {
		shippedBytes += int64(len(r.Payload))
	}
	// what the outbox holds after this batch, as far as this look saw (rows written since are
	// counted at the next contact)
	left.Rows = max(backlog.Rows-int64(len(rows)), 0)
	left.Bytes = max(backlog.Bytes-shippedBytes, 0)
	if left.Rows == 0 {
		left.OldestMs = 0
	}
	now := time.Now()
	src := store.OutboxSource{Appliance: s.cfg.Appliance, StoreID: s.cfg.StoreID, Version: s.cfg.Version, StartedMs: s.cfg.Started.UnixMilli()}
	mark, err := s.remote.Ingest(ctx, src, rows, left, now.UnixMilli())
	if err != nil {
		return false, err
	}
	if len(rows) > 0 {
		if err := s.local.OutboxDone(ctx, mark); err != nil {
			// shipped, not deleted: the next attempt ships them again and the database skips them
			return false, err
		}
	}
	s.mu.Lock()
	s.st.LastContact = now
	s.st.ShippedSeq = mark
	if len(rows) > 0 {
		s.st.LastShip = now
		s.st.Shipped += int64(len(rows))
	}
	s.st.Backlog = left
	s.st.CatchingUp = more
	s.mu.Unlock()
	return more, nil
}

func (s *Shipper) noteBacklog(b store.OutboxBacklog) {
	s.mu.Lock()
	s.st.Backlog = b
	s.st.MaxBacklog = max(s.st.MaxBacklog, b.Rows)
	s.mu.Unlock()
}

// connect opens the fleet database and lines the outbox up with its high-water mark: the rows
// it already holds are deleted here, and if it holds seqs this store never gave out (the store
// was restored from a backup, or replaced, under the same appliance name) new rows are numbered
// above them, else they would be skipped as shipped.
func (s *Shipper) connect(ctx context.Context) error {
	if s.cfg.Open == nil {
		return errors.New("fleet: no database to open")
	}
	r, err := s.cfg.Open(ctx)
	if err != nil {
		return err
	}
	mark, err := r.ShippedSeq(ctx, s.cfg.Appliance, s.cfg.StoreID)
	if err != nil {
		r.Close()
		return err
	}
	if mark > 0 {
		moved, err := s.local.OutboxAlign(ctx, mark)
		if err != nil {
			r.Close()
			return err
		}
		if moved > 0 {
			slog.Info("fleet: outbox rows at or below the database's mark (shipped before a crash, or written after a restore from a backup) are numbered after it and shipped again; the database keeps one of each",
				"appliance", s.cfg.Appliance, "database_seq", mark, "renumbered", moved)
		}
	}
	b, err := s.local.OutboxStats(ctx)
	if err != nil {
		r.Close()
		return err
	}
	s.remote = r
	s.mu.Lock()
	s.st.ShippedSeq = mark
	s.mu.Unlock()
	slog.Info("fleet database connected: the outbox ships to it", "database", s.cfg.Describe, "appliance", s.cfg.Appliance, "backlog", b.Rows)
	return nil
}
