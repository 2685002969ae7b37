package conversation

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"

	"voicebot/backend/internal/ttlcache"
)

// State is what the engine remembers of one conversation between turns.
type State struct {
	ID         string            `json:"id"`
	Lang       string            `json:"lang"`
	LastIntent string            `json:"last_intent,omitempty"`
	Slots      map[string]string `json:"slots,omitempty"` // slots of the last intent
	Topic      string            `json:"topic,omitempty"` // intent name or document path in play
	Pending    *Pending          `json:"pending,omitempty"`
	Misses     int               `json:"misses"` // unanswered turns in a row
	Turns      int               `json:"turns"`
	Rotation   map[string]int    `json:"rotation,omitempty"` // next response per intent
	Created    time.Time         `json:"created"`
	Updated    time.Time         `json:"updated"`
}

// Pending is an open question the bot asked: a missing slot of a form, or a confirmation.
type Pending struct {
	Intent  string            `json:"intent"`
	Slot    string            `json:"slot,omitempty"` // the slot asked for; "" when confirming
	Confirm bool              `json:"confirm,omitempty"`
	Slots   map[string]string `json:"slots,omitempty"` // filled so far
	Asked   int               `json:"asked"`
}

// Clone returns a deep copy (sessions stores keep copies, so a turn never edits a cached state).
func (s *State) Clone() *State {
	c := *s
	c.Slots = cloneMap(s.Slots)
	c.Rotation = make(map[string]int, len(s.Rotation))
	for k, v := range s.Rotation {
		c.Rotation[k] = v
	}
	if s.Pending != nil {
		p := *s.Pending
		p.Slots = cloneMap(s.Pending.Slots)
		c.Pending = &p
	}
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// SessionStore keeps session state between turns. The engine owns no storage: the appliance
// passes a store that writes through to SQLite; MemorySessions serves tests and the chat command.
type SessionStore interface {
	// Get returns the state of a session, or ok=false when there is none.
	Get(ctx context.Context, id string) (st *State, ok bool, err error)
	// Put saves the state after a turn, with the turn itself (for the conversation history).
	// The engine acknowledges the turn only after Put returns.
	Put(ctx context.Context, st *State, turn *Turn) error
}

// Turn is one exchange, as the history records it.
type Turn struct {
	Visitor string // what the visitor said
	Reply   Reply
	KeyID   string // the API key that asked, "" from the terminal
	At      time.Time
	Latency time.Duration // time to decide the reply, before saving
	Heard   *Heard        // a voice turn's transcript, confidence and alternatives (nil when typed)
}

// MemorySessions is a SessionStore in memory, bounded in size and idle time (a library LRU with
// expiry, so a kiosk that runs for months does not grow).
type MemorySessions struct {
	lru *ttlcache.Cache[string, *State]
}

// NewMemorySessions keeps at most size sessions, each for idle after its last turn.
func NewMemorySessions(size int, idle time.Duration) *MemorySessions {
	return &MemorySessions{lru: ttlcache.New[string, *State](size, idle)}
}

// Get implements SessionStore.
func (m *MemorySessions) Get(_ context.Context, id string) (*State, bool, error) {
	st, ok := m.lru.Get(id)
	if !ok {
		return nil, false, nil
	}
	return st.Clone(), true, nil
}

// Put implements SessionStore; the memory store keeps no history.
func (m *MemorySessions) Put(_ context.Context, st *State, _ *Turn) error {
	m.lru.Add(st.ID, st.Clone())
	return nil
}

// Len is the number of live sessions.
func (m *MemorySessions) Len() int { return m.lru.Len() }

// NewSessionID returns a URL-safe session identifier: 48 bits of milliseconds, so that ids sort
// by creation and new sessions land together at the end of the store's indexes (fewer pages
// written per commit), then 80 random bits, so that an id cannot be guessed.
func NewSessionID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	return "s_" + strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}
