// Package history keeps conversations in the store: each session's memory (so a restart resumes
// where the visitor was) and every message, written in the same grouped transaction before the
// engine acknowledges the turn (a voice turn's transcript, confidence and alternatives with the
// visitor's message, a repair's offered reading with the bot's). It implements
// conversation.SessionStore, and serves the session list, transcripts, export and erase for the
// API, the dashboard and the command line.
package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/internal/ttlcache"
	"voicebot/backend/store"
)

// ErrNoSession is returned for an unknown session id.
var ErrNoSession = errors.New("no such session")

// ErrSessionErased is returned by Put when the session was erased while its turn was answered.
var ErrSessionErased = errors.New("the session was erased while this turn was answered")

// Store is the session store, with the active sessions' memory cached in front (write-through:
// every Put reaches the database before it returns), unless the database is shared.
type Store struct {
	db     Backend
	shared bool // other appliances write the same sessions: no cache
	cache  *ttlcache.Cache[string, *conversation.State]
	locks  *conversation.SessionLocks // the engine's, once an engine uses this store
}

// UseSessionLocks implements conversation.SessionLocker: conversation.New hands the store the
// engine's session locks, which Erase takes.
func (s *Store) UseSessionLocks(l *conversation.SessionLocks) { s.locks = l }

// The session cache holds the memory of the conversations under way, so that a turn does not
// read its session back from the store: SessionCacheSize sessions, each until SessionCacheIdle
// after its last turn. A state takes about 1 KB of heap (0.93 KB measured with the demo's slots
// and rotations), so 2,000 is 2 MB, or 4 MB with the GC's headroom; 2,000 conversations started
// within half an hour is more than a kiosk or a LAN of tablets has. A session pushed out is read
// back from the store on its next turn (one indexed read). It was 10,000 until the one-hour
// soak (docs/RELIABILITY.md) saw resident memory grow for the 17 minutes that load took to fill
// it.
const (
	SessionCacheSize = 2000
	SessionCacheIdle = 30 * time.Minute
)

// Backend is what the history keeps in a store (store.DB on SQLite, postgres.DB on PostgreSQL):
// the sessions' rows and messages, each change with its audit entry.
type Backend interface {
	SessionState(ctx context.Context, id string) ([]byte, bool, error)
	SaveTurn(ctx context.Context, s store.SessionRow, t *store.TurnRow) error
	ListSessions(ctx context.Context, q store.SessionQuery) ([]store.SessionRow, error)
	Session(ctx context.Context, id string) (store.SessionRow, error)
	SessionMessages(ctx context.Context, id string) ([]store.MessageRow, error)
	EraseSession(ctx context.Context, id string, audit store.AuditEntry) error
	PurgeSessions(ctx context.Context, beforeMs int64, audit func(n int64) store.AuditEntry) (int64, error)
	Audit(ctx context.Context, e store.AuditEntry) error
}

// New returns a history store over db.
//
// A store that says it is shared (Shared() true: PostgreSQL, where several appliances serve the
// same sessions) gets no cache of the sessions' memory: a conversation may go on at another
// appliance, and this one must read where it got to, not what it cached.
func New(db Backend) *Store {
	s := &Store{db: db, cache: ttlcache.New[string, *conversation.State](SessionCacheSize, SessionCacheIdle)}
	if sh, ok := db.(interface{ Shared() bool }); ok && sh.Shared() {
		s.shared = true
	}
	return s
}

// Get implements conversation.SessionStore.
func (s *Store) Get(ctx context.Context, id string) (*conversation.State, bool, error) {
	if st, ok := s.cache.Get(id); ok && !s.shared {
		return st.Clone(), true, nil
	}
	raw, ok, err := s.db.SessionState(ctx, id)
	if err != nil || !ok {
		return nil, false, err
	}
	var st conversation.State
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, false, fmt.Errorf("session %s: stored state unreadable: %w", id, err)
	}
	return &st, true, nil
}

// Put implements conversation.SessionStore: the session's memory and the turn's two messages in
// one grouped, durable transaction.
func (s *Store) Put(ctx context.Context, st *conversation.State, t *conversation.Turn) error {
	state, err := json.Marshal(st)
	if err != nil {
		return err
	}
	row := store.SessionRow{ID: st.ID, Lang: st.Lang, State: state, Turns: st.Turns, CreatedMs: st.Created.UnixMilli(), UpdatedMs: st.Updated.UnixMilli()}
	var turn *store.TurnRow
	if t != nil {
		row.KeyID = t.KeyID
		if turn, err = turnRow(t); err != nil {
			s.cache.Remove(st.ID)
			return err
		}
	}
	err = s.db.SaveTurn(ctx, row, turn)
	if errors.Is(err, store.ErrGone) {
		// A later turn updates the row its memory was read from. No row means the session was
		// erased (or purged) while the turn was answered, by another process (the command
		// line) or past the session lock: it is not written back.
		err = ErrSessionErased
	}
	if err != nil {
		s.cache.Remove(st.ID)
		return err
	}
	if !s.shared {
		s.cache.Add(st.ID, st.Clone())
	}
	return nil
}

// turnRow is the stored form of a turn's two messages.
func turnRow(t *conversation.Turn) (*store.TurnRow, error) {
	r := &store.TurnRow{Visitor: t.Visitor, Text: t.Reply.Text, Lang: t.Reply.Lang, Kind: t.Reply.Kind, Intent: t.Reply.Intent,
		Confidence: t.Reply.Confidence, LatencyUS: t.Latency.Microseconds(), KeyID: t.KeyID, AtMs: t.At.UnixMilli()}
	if len(t.Reply.Sources) > 0 {
		b, _ := json.Marshal(t.Reply.Sources)
		r.Sources = string(b)
	}
	var err error
	if r.Heard, err = heardColumn(t.Heard); err != nil {
		return nil, err
	}
	if t.Reply.Kind == conversation.KindRepair { // NULL but on a repair
		offer := t.Reply.Offer
		r.Offer = &offer
	}
	return r, nil
}

// heardColumn is the messages.heard value of a visitor's message: the Heard as JSON, or NULL for a
// typed turn.
func heardColumn(h *conversation.Heard) ([]byte, error) {
	if h == nil {
		return nil, nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("the voice turn's transcript cannot be stored: %w", err)
	}
	return b, nil
}

// Session is one row of the session list.
type Session struct {
	ID      string    `json:"id"`
	Lang    string    `json:"lang"`
	KeyID   string    `json:"key_id,omitempty"`
	Turns   int       `json:"turns"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Preview string    `json:"preview,omitempty"` // the visitor's first words
	// Appliance is, on a store several appliances share, the one it started on.
	Appliance string `json:"appliance,omitempty"`
}

// Message is one line of a transcript.
type Message struct {
	ID         int64                 `json:"id"`
	Turn       int                   `json:"turn"`
	Role       string                `json:"role"`
	Text       string                `json:"text"`
	Lang       string                `json:"lang,omitempty"`
	Kind       string                `json:"kind,omitempty"`
	Intent     string                `json:"intent,omitempty"`
	Confidence *float64              `json:"confidence,omitempty"`
	Sources    []conversation.Source `json:"sources,omitempty"`
	LatencyUS  *int64                `json:"latency_us,omitempty"`
	KeyID      string                `json:"key_id,omitempty"`
	At         time.Time             `json:"at"`
	// Heard is, on the visitor's message of a voice turn, the transcript, how sure the engine
	// was of it and the other readings; nil for a typed turn.
	Heard *conversation.Heard `json:"heard,omitempty"`
	// Offer is, on the bot's message of a repair (kind repair), the reading offered for the
	// visitor to confirm ("" when none was offered).
	Offer string `json:"offer,omitempty"`
}

// ListQuery pages and filters the session list.
type ListQuery = store.SessionQuery

// List returns sessions, most recently updated first.
func (s *Store) List(ctx context.Context, q ListQuery) ([]Session, error) {
	rows, err := s.db.ListSessions(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []Session
	for _, r := range rows {
		out = append(out, sessionOf(r))
	}
	return out, nil
}

func sessionOf(r store.SessionRow) Session {
	return Session{ID: r.ID, Lang: r.Lang, KeyID: r.KeyID, Turns: r.Turns, Created: time.UnixMilli(r.CreatedMs), Updated: time.UnixMilli(r.UpdatedMs), Preview: r.Preview, Appliance: r.Appliance}
}

// Messages returns a session's transcript in order.
func (s *Store) Messages(ctx context.Context, id string) ([]Message, error) {
	rows, err := s.db.SessionMessages(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(rows))
	for _, r := range rows {
		m := Message{ID: r.ID, Turn: r.Turn, Role: r.Role, Text: r.Text, Lang: r.Lang, Kind: r.Kind, Intent: r.Intent,
			Confidence: r.Confidence, LatencyUS: r.LatencyUS, KeyID: r.KeyID, At: time.UnixMilli(r.AtMs), Offer: r.Offer}
		if r.Heard != nil {
			m.Heard = new(conversation.Heard)
			if err := json.Unmarshal(r.Heard, m.Heard); err != nil {
				return nil, fmt.Errorf("session %s, message %d: stored transcript unreadable: %w", id, m.ID, err)
			}
		}
		if r.Sources != "" {
			_ = json.Unmarshal([]byte(r.Sources), &m.Sources)
		}
		out = append(out, m)
	}
	return out, nil
}

// Export is everything stored about one session, for a data-subject request.
type Export struct {
	Session  Session   `json:"session"`
	Messages []Message `json:"messages"`
	Exported time.Time `json:"exported"`
}

// Export returns a session with its transcript and records the export in the audit log.
func (s *Store) Export(ctx context.Context, id, actor, remote string) (*Export, error) {
	msgs, err := s.Messages(ctx, id)
	if err != nil {
		return nil, err
	}
	row, err := s.db.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	x := sessionOf(row)
	if err := s.db.Audit(ctx, store.AuditEntry{Actor: actor, Action: "session.export", Target: id, Remote: remote}); err != nil {
		return nil, err
	}
	return &Export{Session: x, Messages: msgs, Exported: time.Now()}, nil
}

// Erase deletes a session and all its messages, and records the erasure (without the content).
// It holds the session's lock (the engine's, see UseSessionLocks), so a turn in flight finishes
// first and is erased with the rest, and no turn of the session starts until the erase is
// committed. On SQLite, with secure_delete on, the deleted rows are zeroed in their pages.
func (s *Store) Erase(ctx context.Context, id, actor, remote string) error {
	if s.locks != nil {
		defer s.locks.Lock(id)()
	}
	err := s.db.EraseSession(ctx, id, store.AuditEntry{Actor: actor, Action: "session.erase", Target: id, Remote: remote})
	if errors.Is(err, store.ErrNotFound) {
		err = ErrNoSession
	}
	s.cache.Remove(id)
	return err
}

// Purge deletes the sessions not updated since before, with their messages (the retention
// setting), and returns how many went.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.db.PurgeSessions(ctx, before.UnixMilli(), func(n int64) store.AuditEntry {
		return store.AuditEntry{Actor: "system", Action: "retention.purge", Detail: fmt.Sprintf("%d sessions older than %s", n, before.UTC().Format(time.RFC3339))}
	})
	if n > 0 {
		s.cache.Purge()
	}
	return n, err
}
