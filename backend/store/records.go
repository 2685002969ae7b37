package store

// The storage boundary: the records the persisting packages (history, keys, the dashboard,
// telemetry) read and write, and the errors they are told, shared by both implementations of the
// store: SQLite (this package, the embedded default) and PostgreSQL (backend/store/postgres).
// Each consumer declares the few methods it uses as an interface of its own (history.Backend,
// keys.Backend, dashboard.Views, telemetry.Storage); Backend below is their union, what the
// composition root (backend/appliance) opens and hands round. The conformance suite that both
// implementations pass is backend/store/storetest. Times are Unix milliseconds, as stored.

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound means the session, key or link the call names is not stored.
var ErrNotFound = errors.New("not found")

// ErrGone means a later turn found no row for its session: it was erased or purged while the
// turn was answered (history.ErrSessionErased).
var ErrGone = errors.New("the session's row is gone")

// ErrAlreadyRevoked means RevokeKey found the key revoked already.
var ErrAlreadyRevoked = errors.New("already revoked")

// SessionRow is one stored session: its memory (the engine's state as JSON) and its counters.
type SessionRow struct {
	ID        string
	Lang      string
	KeyID     string // the key that started it
	State     []byte // JSON
	Turns     int
	CreatedMs int64
	UpdatedMs int64
	Preview   string // ListSessions only: the visitor's first words
	Appliance string // on a shared store, the appliance it started on ("" on SQLite)
}

// TurnRow is one turn's two messages, the visitor's and the bot's.
type TurnRow struct {
	Visitor    string
	Heard      []byte // the visitor's message's heard JSON; nil for a typed turn (NULL)
	Text       string // the bot's answer
	Lang       string
	Kind       string
	Intent     string
	Confidence float64
	Sources    string // JSON array, "" for none
	LatencyUS  int64
	Offer      *string // the bot's offered reading on a repair; nil otherwise (NULL)
	KeyID      string
	AtMs       int64
}

// MessageRow is one stored message.
type MessageRow struct {
	ID         int64
	Turn       int
	Role       string // visitor or bot
	Text       string
	Lang       string
	Kind       string
	Intent     string
	Confidence *float64
	Sources    string
	LatencyUS  *int64
	KeyID      string
	AtMs       int64
	Heard      []byte // nil when NULL
	Offer      string
	Appliance  string // on a shared store, the appliance that answered the turn ("" on SQLite)
}

// SessionQuery pages and filters the session list.
type SessionQuery struct {
	Search string // words in any message of the session
	Lang   string
	KeyID  string // sessions started through this key
	Intent string // sessions with a bot answer of this intent
	From   int64  // updated at or after (Unix ms; 0 = any)
	To     int64  // updated before (Unix ms; 0 = any)
	// Appliance: sessions this appliance answered a turn of, on a shared store (SQLite, one
	// appliance's own, ignores it).
	Appliance string
	Before    int64 // updated_ms cursor: sessions updated before this (0 = newest)
	Limit     int
}

// Normalized returns the query with its limit in bounds (50 by default, at most 200).
func (q SessionQuery) Normalized() SessionQuery {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	return q
}

// KeyRow is an API key's stored record: the key's SHA-256, never the key.
type KeyRow struct {
	ID          string
	Name        string
	Hash        []byte
	Scopes      string // comma separated
	Origins     string // comma separated
	Rate        string
	CreatedMs   int64
	ExpiresMs   *int64
	RevokedMs   *int64
	LastUsedMs  *int64
	Uses        int64
	RotatedFrom string
}

// KeyUsage is the uses of a key counted in memory since the last flush.
type KeyUsage struct {
	N      int64
	LastMs int64
}

// Totals is what the dashboard's Overview counts.
type Totals struct {
	Sessions, Messages, ActiveKeys int
}

// Count is a label and how many times it was seen.
type Count struct {
	Label string
	N     int
}

// SampleRow is one value of the sampled metrics history.
type SampleRow struct {
	AtMs  int64
	Name  string
	Value float64
}

// BotTurn is what the metrics rollup reads of one stored bot message.
type BotTurn struct {
	AtMs              int64
	Kind, Intent, Key string
	LatencyUS         int64
}

// TeachGroup is one question as asked, before questions are grouped by their folded words: the
// turns with the same words (as heard, on a voice turn), language, answer kind and intent.
type TeachGroup struct {
	Text, Lang, Kind, Intent string
	Conf                     float64 // the newest turn's answer confidence
	N                        int     // turns
	Last                     int64   // newest turn, Unix ms
	Spoken                   int     // turns asked by voice
	Heard                    float64 // lowest confidence of what was heard, 0 when none says
	HeardSet                 bool
}

// ApplianceRow is one appliance of a fleet sharing a PostgreSQL store: its heartbeat.
type ApplianceRow struct {
	Name       string
	Version    string
	StartedMs  int64
	LastSeenMs int64
}

// TeachGroupsLimit is how many groups of identical questions TeachGroups returns at most.
const TeachGroupsLimit = 2000

// Backend is everything the appliance asks of a store, the union of its consumers' interfaces:
// *DB (SQLite) and *postgres.DB implement it.
type Backend interface {
	// Sessions and messages (history)
	SessionState(ctx context.Context, id string) ([]byte, bool, error)
	SaveTurn(ctx context.Context, s SessionRow, t *TurnRow) error
	ListSessions(ctx context.Context, q SessionQuery) ([]SessionRow, error)
	Session(ctx context.Context, id string) (SessionRow, error)
	SessionMessages(ctx context.Context, id string) ([]MessageRow, error)
	EraseSession(ctx context.Context, id string, audit AuditEntry) error
	PurgeSessions(ctx context.Context, beforeMs int64, audit func(n int64) AuditEntry) (int64, error)

	// API keys (keys)
	InsertKey(ctx context.Context, k KeyRow, audit AuditEntry) error
	RevokeKey(ctx context.Context, id string, atMs int64, audit AuditEntry) error
	KeyRecord(ctx context.Context, id string) (KeyRow, error)
	KeyRecords(ctx context.Context) ([]KeyRow, error)
	AddKeyUsage(ctx context.Context, uses map[string]KeyUsage) error

	// The audit log
	Audit(ctx context.Context, e AuditEntry) error
	AuditSearch(ctx context.Context, f AuditFilter) ([]AuditEntry, error)

	// One-time dashboard sign-in links
	InsertLink(ctx context.Context, hash []byte, createdMs, expiresMs int64, audit AuditEntry) error
	SpendLink(ctx context.Context, hash []byte, nowMs int64) (bool, error)

	// The dashboard's reads
	Totals(ctx context.Context, nowMs int64) (Totals, error)
	Unanswered(ctx context.Context, sinceMs int64) ([]Count, error)
	Samples(ctx context.Context, sinceMs int64) ([]SampleRow, error)
	TeachGroups(ctx context.Context, since time.Time, below float64) ([]TeachGroup, error)

	// Telemetry: the sampled history, the rollup's source, the store's sizes
	PutSamples(ctx context.Context, rows []SampleRow, dropBeforeMs int64) error
	FirstSample(ctx context.Context, name string, sinceMs int64) (SampleRow, bool, error)
	BotTurns(ctx context.Context, fromMs, toMs int64, fn func(BotTurn)) error
	Stats(ctx context.Context) (Stats, error)

	// The TLS material (the CA, the server certificates) and the screens' pairing codes
	TLSMaterial(ctx context.Context, name string) (certPEM, keyPEM []byte, ok bool, err error)
	PutTLSMaterial(ctx context.Context, name string, certPEM, keyPEM []byte, ifAbsent bool) error
	CreatePairing(ctx context.Context, screen, actor, remote string) (string, time.Time, error)
	UsePairing(ctx context.Context, code string) (screen string, ok bool, err error)
	SetPairingKey(ctx context.Context, code, keyID string) error
	PairedScreens(ctx context.Context) ([]PairedScreen, error)

	// The store itself
	SetCommitObserver(fn func(writes int, took time.Duration, err error))
	SchemaVersion(ctx context.Context) (int, error)
	// Describe names the store for logs and the dashboard (a file's path; a server's address
	// without its password).
	Describe() string
	Close() error
}

var _ Backend = (*DB)(nil)
