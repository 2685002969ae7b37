// Package history keeps conversations in the store: each session's memory (so a restart resumes
// where the visitor was) and every message, written in the same grouped transaction before the
// engine acknowledges the turn (a voice turn's transcript, confidence and alternatives with the
// visitor's message, a repair's offered reading with the bot's). It implements
// conversation.SessionStore, and serves the session list, transcripts, export and erase for the
// API, the dashboard and the command line.
package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/internal/ttlcache"
	"voicebot/backend/store"
)

// ErrNoSession is returned for an unknown session id.
var ErrNoSession = errors.New("no such session")

// ErrSessionErased is returned by Put when the session was erased while its turn was answered.
var ErrSessionErased = errors.New("the session was erased while this turn was answered")

// Store is the SQLite-backed session store, with the active sessions' memory cached in front
// (write-through: every Put reaches the database before it returns).
type Store struct {
	db    *store.DB
	cache *ttlcache.Cache[string, *conversation.State]
	locks *conversation.SessionLocks // the engine's, once an engine uses this store
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

// New returns a history store over db.
func New(db *store.DB) *Store {
	return &Store{db: db, cache: ttlcache.New[string, *conversation.State](SessionCacheSize, SessionCacheIdle)}
}

// Get implements conversation.SessionStore.
func (s *Store) Get(ctx context.Context, id string) (*conversation.State, bool, error) {
	if st, ok := s.cache.Get(id); ok {
		return st.Clone(), true, nil
	}
	var raw string
	err := s.db.Read().QueryRowContext(ctx, `SELECT state FROM sessions WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var st conversation.State
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
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
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		keyID := ""
		if t != nil {
			keyID = t.KeyID
		}
		if st.Turns <= 1 { // the session's first turn: the row is made here
			if _, err := tx.Exec(`INSERT INTO sessions(id, lang, state, key_id, turns, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET lang = excluded.lang, state = excluded.state, turns = excluded.turns, updated_ms = excluded.updated_ms`,
				st.ID, st.Lang, string(state), keyID, st.Turns, st.Created.UnixMilli(), st.Updated.UnixMilli()); err != nil {
				return err
			}
		} else {
			// A later turn updates the row its memory was read from. No row means the session
			// was erased (or purged) while the turn was answered, by another process (the
			// command line) or past the session lock: it is not written back.
			res, err := tx.Exec(`UPDATE sessions SET lang = ?, state = ?, turns = ?, updated_ms = ? WHERE id = ?`,
				st.Lang, string(state), st.Turns, st.Updated.UnixMilli(), st.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrSessionErased
			}
		}
		if t == nil {
			return nil
		}
		at := t.At.UnixMilli()
		sources := ""
		if len(t.Reply.Sources) > 0 {
			b, _ := json.Marshal(t.Reply.Sources)
			sources = string(b)
		}
		heard, err := heardColumn(t.Heard)
		if err != nil {
			return err
		}
		var offer any // NULL but on a repair
		if t.Reply.Kind == conversation.KindRepair {
			offer = t.Reply.Offer
		}
		// both messages of the turn in one statement
		_, err = tx.Exec(`INSERT INTO messages(session_id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms, heard, offer)
			VALUES (?, ?, 'visitor', ?, ?, '', '', NULL, '', NULL, ?, ?, ?, NULL), (?, ?, 'bot', ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
			st.ID, st.Turns, t.Visitor, t.Reply.Lang, t.KeyID, at, heard,
			st.ID, st.Turns, t.Reply.Text, t.Reply.Lang, t.Reply.Kind, t.Reply.Intent, t.Reply.Confidence, sources, t.Latency.Microseconds(), t.KeyID, at, offer)
		return err
	})
	if err != nil {
		s.cache.Remove(st.ID)
		return err
	}
	s.cache.Add(st.ID, st.Clone())
	return nil
}

// heardColumn is the messages.heard value of a visitor's message: the Heard as JSON, or NULL for a
// typed turn.
func heardColumn(h *conversation.Heard) (any, error) {
	if h == nil {
		return nil, nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("the voice turn's transcript cannot be stored: %w", err)
	}
	return string(b), nil
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
type ListQuery struct {
	Search string // words in any message of the session
	Lang   string
	KeyID  string // sessions started through this key
	Intent string // sessions with a bot answer of this intent
	From   int64  // updated at or after (Unix ms; 0 = any)
	To     int64  // updated before (Unix ms; 0 = any)
	Before int64  // updated_ms cursor: sessions updated before this (0 = newest)
	Limit  int
}

// List returns sessions, most recently updated first.
func (s *Store) List(ctx context.Context, q ListQuery) ([]Session, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	where := []string{"1=1"}
	var args []any
	if q.Before > 0 {
		where = append(where, "s.updated_ms < ?")
		args = append(args, q.Before)
	}
	if q.Lang != "" {
		where = append(where, "s.lang = ?")
		args = append(args, q.Lang)
	}
	if q.KeyID != "" {
		where = append(where, "s.key_id = ?")
		args = append(args, q.KeyID)
	}
	if q.Intent != "" {
		where = append(where, "EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.role = 'bot' AND m.intent = ?)")
		args = append(args, q.Intent)
	}
	if q.From > 0 {
		where = append(where, "s.updated_ms >= ?")
		args = append(args, q.From)
	}
	if q.To > 0 {
		where = append(where, "s.updated_ms < ?")
		args = append(args, q.To)
	}
	if q.Search != "" {
		where = append(where, "EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id AND m.text LIKE ? ESCAPE '\\')")
		args = append(args, "%"+likeEscape(q.Search)+"%")
	}
	args = append(args, q.Limit)
	rows, err := s.db.Read().QueryContext(ctx, `SELECT s.id, s.lang, s.key_id, s.turns, s.created_ms, s.updated_ms,
		coalesce((SELECT substr(text, 1, 80) FROM messages m WHERE m.session_id = s.id AND m.role = 'visitor' ORDER BY m.id LIMIT 1), '')
		FROM sessions s WHERE `+strings.Join(where, " AND ")+` ORDER BY s.updated_ms DESC, s.id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var x Session
		var c, u int64
		if err := rows.Scan(&x.ID, &x.Lang, &x.KeyID, &x.Turns, &c, &u, &x.Preview); err != nil {
			return nil, err
		}
		x.Created, x.Updated = time.UnixMilli(c), time.UnixMilli(u)
		out = append(out, x)
	}
	return out, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Messages returns a session's transcript in order.
func (s *Store) Messages(ctx context.Context, id string) ([]Message, error) {
	var exists int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE id = ?`, id).Scan(&exists); err != nil {
		return nil, err
	}
	if exists == 0 {
		return nil, ErrNoSession
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms, heard, offer FROM messages WHERE session_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var m Message
		var conf sql.NullFloat64
		var lat sql.NullInt64
		var sources string
		var at int64
		var heard, offer sql.NullString
		if err := rows.Scan(&m.ID, &m.Turn, &m.Role, &m.Text, &m.Lang, &m.Kind, &m.Intent, &conf, &sources, &lat, &m.KeyID, &at, &heard, &offer); err != nil {
			return nil, err
		}
		if heard.Valid {
			m.Heard = new(conversation.Heard)
			if err := json.Unmarshal([]byte(heard.String), m.Heard); err != nil {
				return nil, fmt.Errorf("session %s, message %d: stored transcript unreadable: %w", id, m.ID, err)
			}
		}
		m.Offer = offer.String
		if conf.Valid {
			m.Confidence = &conf.Float64
		}
		if lat.Valid {
			m.LatencyUS = &lat.Int64
		}
		if sources != "" {
			_ = json.Unmarshal([]byte(sources), &m.Sources)
		}
		m.At = time.UnixMilli(at)
		out = append(out, m)
	}
	return out, rows.Err()
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
	var x Session
	var c, u int64
	err = s.db.Read().QueryRowContext(ctx, `SELECT id, lang, key_id, turns, created_ms, updated_ms FROM sessions WHERE id = ?`, id).Scan(&x.ID, &x.Lang, &x.KeyID, &x.Turns, &c, &u)
	if err != nil {
		return nil, err
	}
	x.Created, x.Updated = time.UnixMilli(c), time.UnixMilli(u)
	if err := s.db.Audit(ctx, store.AuditEntry{Actor: actor, Action: "session.export", Target: id, Remote: remote}); err != nil {
		return nil, err
	}
	return &Export{Session: x, Messages: msgs, Exported: time.Now()}, nil
}

// Erase deletes a session and all its messages, and records the erasure (without the content).
// It holds the session's lock (the engine's, see UseSessionLocks), so a turn in flight finishes
// first and is erased with the rest, and no turn of the session starts until the erase is
// committed. With secure_delete on, the deleted rows are zeroed in their pages.
func (s *Store) Erase(ctx context.Context, id, actor, remote string) error {
	if s.locks != nil {
		defer s.locks.Lock(id)()
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`DELETE FROM sessions WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoSession
		}
		return store.InsertAudit(tx, store.AuditEntry{Actor: actor, Action: "session.erase", Target: id, Remote: remote})
	})
	s.cache.Remove(id)
	return err
}

// Purge deletes the sessions not updated since before, with their messages (the retention
// setting), and returns how many went.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`DELETE FROM sessions WHERE updated_ms < ?`, before.UnixMilli())
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if n > 0 {
			return store.InsertAudit(tx, store.AuditEntry{Actor: "system", Action: "retention.purge", Detail: fmt.Sprintf("%d sessions older than %s", n, before.UTC().Format(time.RFC3339))})
		}
		return nil
	})
	if n > 0 {
		s.cache.Purge()
	}
	return n, err
}
