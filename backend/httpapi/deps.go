package httpapi

// The services the API consumes, each declared by what the handlers use of it (the consumer's
// interfaces, as in the dashboard's SettingsService). The appliance passes the real ones; the
// handler tests (handlers_test.go) pass the real engine over in-memory sessions and small
// in-memory keys, history and audit, so they run without a store file.

import (
	"context"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/voice"
)

// Engine answers turns (conversation.Engine).
type Engine interface {
	Reply(ctx context.Context, req conversation.Request) (conversation.Reply, error)
	Hear(sp conversation.Spoken, lang string) (conversation.Heard, error)
	DetectLanguage(text string) string
	Candidates(text, lang string, n int) ([]conversation.Candidate, error)
	Snapshot() *conversation.Snapshot
}

// ContentStatus says which content is in service (conversation.Loader).
type ContentStatus interface {
	Status() conversation.Status
}

// Keys issues and checks API keys (keys.Service).
type Keys interface {
	Verify(ctx context.Context, presented string) (*keys.Key, error)
	Create(ctx context.Context, sp keys.Spec, actor, remote string) (string, *keys.Key, error)
	List(ctx context.Context) ([]*keys.Key, error)
	Revoke(ctx context.Context, id, actor, remote string) error
	Rotate(ctx context.Context, id, actor, remote string) (string, *keys.Key, error)
}

// History reads, exports and erases stored conversations (history.Store).
type History interface {
	List(ctx context.Context, q history.ListQuery) ([]history.Session, error)
	Messages(ctx context.Context, id string) ([]history.Message, error)
	Export(ctx context.Context, id, actor, remote string) (*history.Export, error)
	Erase(ctx context.Context, id, actor, remote string) error
}

// Audit writes and searches the audit log (store.DB).
type Audit interface {
	Audit(ctx context.Context, e store.AuditEntry) error
	AuditSearch(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Voice is speech in and out (voice.Service).
type Voice interface {
	Engines() ([]voice.EngineInfo, []string)
	NewStream(ctx context.Context, lang string) (voice.Stream, error)
	Recognizer(lang string) (voice.Recognizer, error)
	Synthesizer(lang string) (voice.Synthesizer, error)
	Report() voice.AdaptReport
}

// The real services satisfy them.
var (
	_ Engine        = (*conversation.Engine)(nil)
	_ ContentStatus = (*conversation.Loader)(nil)
	_ Keys          = (*keys.Service)(nil)
	_ History       = (*history.Store)(nil)
	_ Audit         = (*store.DB)(nil)
	_ Voice         = (*voice.Service)(nil)
)
