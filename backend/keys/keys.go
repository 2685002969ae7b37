package keys

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"voicebot/backend/config"
	"voicebot/backend/internal/ttlcache"
	"voicebot/backend/store"
)

// Scopes a key can have.
const (
	ScopeChat    = "chat"
	ScopeVoice   = "voice"
	ScopeHistory = "history"
	ScopeAdmin   = "admin"
	ScopeMetrics = "metrics"
)

// AllScopes lists the scopes in a stable order.
var AllScopes = []string{ScopeChat, ScopeVoice, ScopeHistory, ScopeAdmin, ScopeMetrics}

// Errors of verification, each mapped by the API to a stable code.
var (
	ErrUnknown = errors.New("key is not known")
	ErrRevoked = errors.New("key has been revoked")
	ErrExpired = errors.New("key has expired")
	ErrNoKey   = errors.New("no such key")
)

// Key is an issued key's record (never the key itself).
type Key struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Scopes      []string   `json:"scopes"`
	Origins     []string   `json:"origins,omitempty"`
	Rate        string     `json:"rate,omitempty"`
	Created     time.Time  `json:"created"`
	Expires     *time.Time `json:"expires,omitempty"`
	Revoked     *time.Time `json:"revoked,omitempty"`
	LastUsed    *time.Time `json:"last_used,omitempty"`
	Uses        int64      `json:"uses"`
	RotatedFrom string     `json:"rotated_from,omitempty"`
	hash        []byte
}

// Has reports whether the key carries a scope (admin carries every scope).
func (k *Key) Has(scope string) bool {
	return slices.Contains(k.Scopes, scope) || slices.Contains(k.Scopes, ScopeAdmin)
}

// AllowsOrigin reports whether a browser Origin may use the key ("" = not from a browser).
func (k *Key) AllowsOrigin(origin string) bool {
	if origin == "" || len(k.Origins) == 0 {
		return true
	}
	return slices.Contains(k.Origins, origin)
}

// Spec is what a new key is made with.
type Spec struct {
	Name    string
	Scopes  []string
	Origins []string
	Rate    string // N/PERIOD, e.g. 60/m; empty = the configured default
	Expires time.Duration
}

func (sp *Spec) validate() error {
	sp.Name = strings.TrimSpace(sp.Name)
	if sp.Name == "" || len(sp.Name) > 100 {
		return errors.New("name: give the key a name of 1 to 100 characters, e.g. the device that uses it")
	}
	if len(sp.Scopes) == 0 {
		return fmt.Errorf("scopes: give at least one of %s", strings.Join(AllScopes, ", "))
	}
	for _, s := range sp.Scopes {
		if !slices.Contains(AllScopes, s) {
			return fmt.Errorf("scope %q is not one of %s", s, strings.Join(AllScopes, ", "))
		}
	}
	for _, o := range sp.Origins {
		if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.HasSuffix(o, "/") {
			return fmt.Errorf("origin %q: write scheme://host[:port] with no path, e.g. http://kiosk.local:8080", o)
		}
	}
	if sp.Rate != "" {
		if _, _, err := config.ParseRate(sp.Rate); err != nil {
			return err
		}
	}
	if sp.Expires < 0 {
		return errors.New("expires must be in the future")
	}
	return nil
}

// Backend is what the key service keeps in a store (store.DB on SQLite, postgres.DB on
// PostgreSQL): the keys' records, each change with its audit entry.
type Backend interface {
	InsertKey(ctx context.Context, k store.KeyRow, audit store.AuditEntry) error
	RevokeKey(ctx context.Context, id string, atMs int64, audit store.AuditEntry) error
	KeyRecord(ctx context.Context, id string) (store.KeyRow, error)
	KeyRecords(ctx context.Context) ([]store.KeyRow, error)
	AddKeyUsage(ctx context.Context, uses map[string]store.KeyUsage) error
}

// Service issues, verifies, revokes and rotates keys in the store.
type Service struct {
	db Backend
	// verified caches key records by id for a few seconds, so that verification is not a
	// database read per request; revocation and rotation in this process drop entries at once.
	verified *ttlcache.Cache[string, *Key]
	// cacheGen counts invalidations (revoke, rotate); cacheMu orders an invalidation against
	// adding a record read before it (see record).
	cacheMu  sync.Mutex
	cacheGen atomic.Uint64

	mu    sync.Mutex
	usage map[string]usage // counted in memory, flushed by FlushUsage
}

type usage struct {
	n    int64
	last int64
}

// testHookRead, set by tests, runs between reading a key's record and caching it.
var testHookRead func()

// CacheTTL bounds how long a key revoked by another process (the CLI) may still be accepted.
const CacheTTL = 5 * time.Second

// NewService returns a key service over the store.
func NewService(db Backend) *Service {
	return &Service{db: db, verified: ttlcache.New[string, *Key](4096, CacheTTL), usage: map[string]usage{}}
}

func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Create issues a key; the returned plaintext is shown once and never stored.
func (s *Service) Create(ctx context.Context, sp Spec, actor, remote string) (string, *Key, error) {
	return s.create(ctx, sp, "", actor, remote)
}

func (s *Service) create(ctx context.Context, sp Spec, rotatedFrom, actor, remote string) (string, *Key, error) {
	if err := sp.validate(); err != nil {
		return "", nil, err
	}
	plain, err := Generate()
	if err != nil {
		return "", nil, err
	}
	id, _ := Parse(plain)
	now := time.Now()
	k := &Key{ID: id, Name: sp.Name, Scopes: sp.Scopes, Origins: sp.Origins, Rate: sp.Rate, Created: now, RotatedFrom: rotatedFrom}
	row := store.KeyRow{ID: k.ID, Name: k.Name, Hash: hashKey(plain), Scopes: strings.Join(k.Scopes, ","), Origins: strings.Join(k.Origins, ","),
		Rate: k.Rate, CreatedMs: now.UnixMilli(), RotatedFrom: rotatedFrom}
	if sp.Expires > 0 {
		t := now.Add(sp.Expires)
		k.Expires = &t
		ms := t.UnixMilli()
		row.ExpiresMs = &ms
	}
	action, detail := "key.create", "scopes="+strings.Join(k.Scopes, ",")
	if rotatedFrom != "" {
		action, detail = "key.rotate", "from="+rotatedFrom
	}
	err = s.db.InsertKey(ctx, row, store.AuditEntry{Actor: actor, Action: action, Target: k.ID, Remote: remote, Detail: detail})
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, ErrNoKey
	}
	if err != nil {
		return "", nil, err
	}
	if rotatedFrom != "" {
		s.invalidate(rotatedFrom)
	}
	return plain, k, nil
}

// Rotate issues a new key with the same name, scopes, origins and rate, and revokes the old one
// in the same transaction.
func (s *Service) Rotate(ctx context.Context, id, actor, remote string) (string, *Key, error) {
	old, err := s.Get(ctx, id)
	if err != nil {
		return "", nil, err
	}
	if old.Revoked != nil {
		return "", nil, ErrRevoked
	}
	sp := Spec{Name: old.Name, Scopes: old.Scopes, Origins: old.Origins, Rate: old.Rate}
	if old.Expires != nil {
		sp.Expires = time.Until(*old.Expires)
		if sp.Expires <= 0 {
			return "", nil, ErrExpired
		}
	}
	return s.create(ctx, sp, id, actor, remote)
}

// Revoke revokes a key at once.
func (s *Service) Revoke(ctx context.Context, id, actor, remote string) error {
	err := s.db.RevokeKey(ctx, id, time.Now().UnixMilli(), store.AuditEntry{Actor: actor, Action: "key.revoke", Target: id, Remote: remote})
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = ErrNoKey
	case errors.Is(err, store.ErrAlreadyRevoked):
		err = ErrRevoked
	}
	s.invalidate(id)
	return err
}

// Forget drops a key's cached record, so that its next use reads the store: the appliance calls
// it when another appliance of the same database announces the key's revocation or rotation
// (postgres.KeyChannel).
func (s *Service) Forget(id string) { s.invalidate(id) }

// ForgetAll drops every cached record (after announcements may have been missed).
func (s *Service) ForgetAll() {
	s.cacheMu.Lock()
	s.cacheGen.Add(1)
	s.verified.Purge()
	s.cacheMu.Unlock()
}

// invalidate drops a key's cached record after its revocation committed, and keeps any
// verification that read the row before the commit from caching it again.
func (s *Service) invalidate(id string) {
	s.cacheMu.Lock()
	s.cacheGen.Add(1)
	s.verified.Remove(id)
	s.cacheMu.Unlock()
}

// keyOf is a key's record as stored.
func keyOf(r store.KeyRow) *Key {
	k := &Key{ID: r.ID, Name: r.Name, hash: r.Hash, Scopes: splitList(r.Scopes), Origins: splitList(r.Origins), Rate: r.Rate,
		Created: time.UnixMilli(r.CreatedMs), Uses: r.Uses, RotatedFrom: r.RotatedFrom}
	for _, p := range []struct {
		v   *int64
		dst **time.Time
	}{{r.ExpiresMs, &k.Expires}, {r.RevokedMs, &k.Revoked}, {r.LastUsedMs, &k.LastUsed}} {
		if p.v != nil {
			t := time.UnixMilli(*p.v)
			*p.dst = &t
		}
	}
	return k
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Get returns one key's record.
func (s *Service) Get(ctx context.Context, id string) (*Key, error) {
	r, err := s.db.KeyRecord(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoKey
	}
	if err != nil {
		return nil, err
	}
	k := keyOf(r)
	s.applyUsage(k)
	return k, nil
}

// List returns every key, newest first.
func (s *Service) List(ctx context.Context) ([]*Key, error) {
	rows, err := s.db.KeyRecords(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Key
	for _, r := range rows {
		k := keyOf(r)
		s.applyUsage(k)
		out = append(out, k)
	}
	return out, nil
}

// applyUsage adds the uses counted in memory and not flushed yet.
func (s *Service) applyUsage(k *Key) {
	s.mu.Lock()
	u := s.usage[k.ID]
	s.mu.Unlock()
	k.Uses += u.n
	if u.last > 0 {
		t := time.UnixMilli(u.last)
		k.LastUsed = &t
	}
}

// record returns a key's record from the short cache or the store (ErrUnknown when there is
// none).
func (s *Service) record(ctx context.Context, id string) (*Key, error) {
	if k, ok := s.verified.Get(id); ok {
		return k, nil
	}
	gen := s.cacheGen.Load()
	r, err := s.db.KeyRecord(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknown
	}
	if err != nil {
		return nil, err
	}
	k := keyOf(r)
	if testHookRead != nil {
		testHookRead()
	}
	// Cache what was read only if no revocation or rotation finished since the read began: a
	// row read before such a commit may be stale, and caching it after the invalidation would
	// let a revoked key in until CacheTTL.
	s.cacheMu.Lock()
	if s.cacheGen.Load() == gen {
		s.verified.Add(id, k)
	}
	s.cacheMu.Unlock()
	return k, nil
}

// usable says why a key can no longer be used (revoked, expired), or nil.
func (k *Key) usable(now time.Time) error {
	if k.Revoked != nil {
		return ErrRevoked
	}
	if k.Expires != nil && now.After(*k.Expires) {
		return ErrExpired
	}
	return nil
}

// Active reports whether the key with this id may still be used: nil, or ErrUnknown, ErrRevoked
// or ErrExpired. The dashboard asks it on every request of a session the key opened, so that
// revoking, rotating or the expiry of the key ends the session at once. It reads the same
// short cache as Verify (a revocation in this process is seen at once; one by another process
// within CacheTTL) and counts no use.
func (s *Service) Active(ctx context.Context, id string) error {
	k, err := s.record(ctx, id)
	if err != nil {
		return err
	}
	return k.usable(time.Now())
}

// Verify checks a presented key: form and checksum first (no database work), then the stored
// hash, compared in constant time, then revocation and expiry. It counts the use.
func (s *Service) Verify(ctx context.Context, presented string) (*Key, error) {
	id, err := Parse(presented)
	if err != nil {
		return nil, err
	}
	k, err := s.record(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(hashKey(presented), k.hash) != 1 {
		return nil, ErrUnknown
	}
	if err := k.usable(time.Now()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	u := s.usage[id]
	u.n++
	u.last = time.Now().UnixMilli()
	s.usage[id] = u
	s.mu.Unlock()
	return k, nil
}

// FlushUsage writes the use counts gathered in memory to the store (the appliance calls it every
// few seconds and at shutdown), so counting a use costs no write per request.
func (s *Service) FlushUsage(ctx context.Context) error {
	s.mu.Lock()
	pending := s.usage
	s.usage = map[string]usage{}
	s.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	uses := make(map[string]store.KeyUsage, len(pending))
	for id, u := range pending {
		uses[id] = store.KeyUsage{N: u.n, LastMs: u.last}
	}
	err := s.db.AddKeyUsage(ctx, uses)
	if err != nil { // put the counts back for the next flush
		s.mu.Lock()
		for id, u := range pending {
			cur := s.usage[id]
			cur.n += u.n
			cur.last = max(cur.last, u.last)
			s.usage[id] = cur
		}
		s.mu.Unlock()
	}
	return err
}
