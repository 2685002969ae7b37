package dashboard

// The services the pages consume, each declared by what the pages use of it (the consumer's
// interfaces, as httpapi's deps.go). The appliance passes the real ones, and the stored data
// through StoreView (storeview.go), the one file of the package that reads the store; the handler tests
// (unit_test.go) pass small in-memory ones and the real engine over in-memory sessions, so they
// run without a store file.

import (
	"context"
	"crypto/x509"
	"log/slog"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/telemetry"
	"voicebot/backend/voice"
)

// Keys signs operators in and manages API keys (keys.Service). Create, Revoke and Rotate write
// their own audit entries with the actor and remote address given.
type Keys interface {
	// Active says whether the key that opened a session still may (keys.ErrRevoked,
	// keys.ErrExpired, keys.ErrUnknown when not).
	Active(ctx context.Context, id string) error
	Verify(ctx context.Context, presented string) (*keys.Key, error)
	List(ctx context.Context) ([]*keys.Key, error)
	Create(ctx context.Context, sp keys.Spec, actor, remote string) (string, *keys.Key, error)
	Revoke(ctx context.Context, id, actor, remote string) error
	Rotate(ctx context.Context, id, actor, remote string) (string, *keys.Key, error)
}

// History lists, shows, exports and erases stored conversations (history.Store); export and
// erase are audited by it.
type History interface {
	List(ctx context.Context, q history.ListQuery) ([]history.Session, error)
	Messages(ctx context.Context, id string) ([]history.Message, error)
	Export(ctx context.Context, id, actor, remote string) (*history.Export, error)
	Erase(ctx context.Context, id, actor, remote string) error
}

// Audit writes and searches the audit log (store.DB, postgres.DB).
type Audit interface {
	Audit(ctx context.Context, e store.AuditEntry) error
	AuditSearch(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Queries is what the pages read from the stored data, one method for each thing a page shows
// (StoreView asks them of the store), and the one-time sign-in links.
type Queries interface {
	// Totals counts the stored sessions and messages and the API keys active at now.
	Totals(ctx context.Context, now time.Time) (Totals, error)
	// StorageForecast is the store's sizes and growth (telemetry.StorageForecast).
	StorageForecast(ctx context.Context, now time.Time) (telemetry.Forecast, error)
	// Unanswered counts the visitors' questions answered by the fallback or the handoff since a
	// time, by their text as asked, most asked first (at most 2,000).
	Unanswered(ctx context.Context, since time.Time) ([]Count, error)
	// Samples reads the sampled metrics history of the names given since a time.
	Samples(ctx context.Context, since time.Time, names ...string) ([]Sample, error)
	// TeachGroups reads the turns the Teach page lists since a time (see teachQuestions), grouped
	// by their words as asked, language, answer kind and intent; most asked first, then newest
	// (at most store.TeachGroupsLimit).
	TeachGroups(ctx context.Context, since time.Time, below float64) ([]TeachGroup, error)
	// Fleet lists the appliances sharing the store, the most recently seen first (none on a
	// store of one appliance's own: the pages then show no appliance filter).
	Fleet(ctx context.Context) ([]Appliance, error)
	// UseLink uses up a one-time sign-in link's token (store.UseLink): true when it was known,
	// unused and unexpired.
	UseLink(ctx context.Context, token string) (bool, error)
}

// Appliance is one appliance of a fleet sharing the store: its last heartbeat.
type Appliance = store.ApplianceRow

// Totals is what the Overview counts in the store.
type Totals = store.Totals

// Sample is one value of the sampled metrics history.
type Sample struct {
	At    time.Time
	Name  string
	Value float64
}

// TeachGroup is one question as asked, before questions are grouped by their folded words: the
// turns with the same words (as heard, on a voice turn), language, answer kind and intent.
type TeachGroup = store.TeachGroup

// Rollup is the per-minute aggregate of turns the Metrics page reads (telemetry.Rollup).
type Rollup interface {
	Range(from, to time.Time, width time.Duration, fn func(bucket int, m *telemetry.Minute))
	Loaded() bool
}

// Engine answers questions for the Content and Teach pages (conversation.Engine).
type Engine interface {
	Snapshot() *conversation.Snapshot
	Try(text, lang string) (conversation.Reply, error)
	Check(perTemplate int) (*conversation.CheckReport, error)
	Candidates(text, lang string, n int) ([]conversation.Candidate, error)
}

// ContentStatus says which content is in service and reloads it (conversation.Loader).
type ContentStatus interface {
	Status() conversation.Status
	Reload() error
}

// Voice says which speech engines serve and how they adapted to the content (voice.Service).
type Voice interface {
	Engines() ([]voice.EngineInfo, []string)
	Report() voice.AdaptReport
}

// Logs are the process's recent warnings and errors, newest first, with how many were logged
// since the start (telemetry.LogRing).
type Logs interface {
	Recent(min slog.Level, n int) ([]telemetry.LogEntry, uint64)
}

// The real services satisfy them.
var (
	_ Keys          = (*keys.Service)(nil)
	_ History       = (*history.Store)(nil)
	_ Audit         = (*store.DB)(nil)
	_ Queries       = (*StoreView)(nil)
	_ Rollup        = (*telemetry.Rollup)(nil)
	_ Engine        = (*conversation.Engine)(nil)
	_ ContentStatus = (*conversation.Loader)(nil)
	_ Voice         = (*voice.Service)(nil)
	_ Logs          = (*telemetry.LogRing)(nil)
)

// Screens pairs visitor screens and tells the appliance's HTTPS (the appliance): the Keys page's
// "Pair a screen", its list of paired screens, and the CA's fingerprint and download.
type Screens interface {
	CreatePairing(ctx context.Context, screen, actor, remote string) (code string, expires time.Time, err error)
	PairedScreens(ctx context.Context) ([]store.PairedScreen, error)
	PairingLink(code string) string
	CAFingerprint() string
	ServerCertificate() *x509.Certificate
	OperatorCertificate() bool
	LAN() bool
}
