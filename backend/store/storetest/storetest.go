// Package storetest is the store test suite both implementations of the storage boundary pass:
// SQLite (backend/store, store_conformance_test.go) and PostgreSQL (backend/store/postgres,
// postgres_test.go, on a throwaway server from backend/internal/pgtest). Each test opens a fresh,
// empty store and asserts what the consumers (history, keys, the dashboard, telemetry) rely on:
// the rows written are the rows read, in the same order, with the same NULLs; the errors are the
// boundary's; a change and its audit entry commit together or not at all.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"voicebot/backend/store"
)

// Open opens a fresh, empty store for one test; the suite closes it.
type Open func(t *testing.T) store.Backend

// Run runs the suite, each test on a store of its own.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db store.Backend)
	}{
		{"Turns", testTurns},
		{"LaterTurnOfErasedSession", testGone},
		{"ListSessions", testList},
		{"EraseAndPurge", testEraseAndPurge},
		{"Keys", testKeys},
		{"Audit", testAudit},
		{"Links", testLinks},
		{"TLSAndPairing", testTLSAndPairing},
		{"DashboardReads", testDashboard},
		{"Samples", testSamples},
		{"ConcurrentTurns", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			t.Cleanup(func() { db.Close() })
			tc.fn(t, db)
		})
	}
}

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// turn writes turn n of a session (its first makes the row).
func turn(t *testing.T, db store.Backend, id string, n int, at int64, tr store.TurnRow) {
	t.Helper()
	tr.AtMs = at
	must(t, db.SaveTurn(ctx, store.SessionRow{ID: id, Lang: tr.Lang, KeyID: tr.KeyID, State: []byte(fmt.Sprintf(`{"id":%q,"turns":%d}`, id, n)),
		Turns: n, CreatedMs: at - int64(n-1)*1000, UpdatedMs: at}, &tr))
}

func testTurns(t *testing.T, db store.Backend) {
	if _, ok, err := db.SessionState(ctx, "nope"); ok || err != nil {
		t.Fatalf("unknown session: ok=%v err=%v", ok, err)
	}
	heard := []byte(`{"transcript":"opening ours","confidence":0.42,"alternatives":["opening hours"]}`)
	turn(t, db, "s1", 1, 1000, store.TurnRow{Visitor: "opening ours", Heard: heard, Text: "Did you ask: opening hours?", Lang: "en",
		Kind: "repair", Intent: "", Confidence: 0.42, LatencyUS: 1234, Offer: ptr("opening hours"), KeyID: "k1"})
	turn(t, db, "s1", 2, 2000, store.TurnRow{Visitor: "yes", Text: "We open at 10.", Lang: "en", Kind: "intent", Intent: "opening_hours",
		Confidence: 0.97, Sources: `[{"title":"Hours","path":"hours.md"}]`, LatencyUS: 99, KeyID: "k1"})
	st, ok, err := db.SessionState(ctx, "s1")
	if err != nil || !ok || string(st) != `{"id":"s1","turns":2}` {
		t.Fatalf("state: %q %v %v", st, ok, err)
	}
	s, err := db.Session(ctx, "s1")
	if err != nil || s.Turns != 2 || s.KeyID != "k1" || s.Lang != "en" || s.CreatedMs != 1000 || s.UpdatedMs != 2000 {
		t.Fatalf("session: %+v %v", s, err)
	}
	if _, err := db.Session(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown session's row: %v", err)
	}
	msgs, err := db.SessionMessages(ctx, "s1")
	must(t, err)
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want 4", len(msgs))
	}
	v1, b1, v2, b2 := msgs[0], msgs[1], msgs[2], msgs[3]
	if v1.Role != "visitor" || v1.Turn != 1 || v1.Text != "opening ours" || v1.Confidence != nil || v1.LatencyUS != nil || v1.KeyID != "k1" || v1.AtMs != 1000 {
		t.Errorf("visitor message: %+v", v1)
	}
	if v1.Heard == nil || !jsonEqual(v1.Heard, heard) {
		t.Errorf("heard: %s, want %s", v1.Heard, heard)
	}
	if b1.Role != "bot" || b1.Kind != "repair" || b1.Offer != "opening hours" || b1.Heard != nil || b1.Confidence == nil || *b1.Confidence != 0.42 || b1.LatencyUS == nil || *b1.LatencyUS != 1234 {
		t.Errorf("bot message: %+v", b1)
	}
	if v2.Heard != nil || v2.Offer != "" || b2.Offer != "" || b2.Sources != `[{"title":"Hours","path":"hours.md"}]` || b2.Intent != "opening_hours" || b2.Turn != 2 {
		t.Errorf("typed turn: %+v %+v", v2, b2)
	}
	if !(v1.ID < b1.ID && b1.ID < v2.ID && v2.ID < b2.ID) {
		t.Errorf("ids not in order: %d %d %d %d", v1.ID, b1.ID, v2.ID, b2.ID)
	}
	if _, err := db.SessionMessages(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("messages of an unknown session: %v", err)
	}
	// a session's memory alone (no turn), and the first turn again (upsert)
	must(t, db.SaveTurn(ctx, store.SessionRow{ID: "s2", State: []byte(`{}`), Turns: 0, CreatedMs: 5, UpdatedMs: 5}, nil))
	must(t, db.SaveTurn(ctx, store.SessionRow{ID: "s2", Lang: "es", State: []byte(`{"a":1}`), Turns: 1, CreatedMs: 5, UpdatedMs: 6}, nil))
	if st, _, _ := db.SessionState(ctx, "s2"); string(st) != `{"a":1}` {
		t.Errorf("upserted state: %s", st)
	}
	if msgs, err := db.SessionMessages(ctx, "s2"); err != nil || len(msgs) != 0 || msgs == nil {
		t.Errorf("session without turns: %v %v (want an empty list)", msgs, err)
	}
}

// jsonEqual compares JSON by value (PostgreSQL's jsonb keeps its own order of keys).
func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func testGone(t *testing.T, db store.Backend) {
	turn(t, db, "g", 1, 1000, store.TurnRow{Visitor: "hi", Text: "hello", Kind: "intent"})
	must(t, db.EraseSession(ctx, "g", store.AuditEntry{Actor: "cli", Action: "session.erase", Target: "g"}))
	err := db.SaveTurn(ctx, store.SessionRow{ID: "g", State: []byte(`{}`), Turns: 2, UpdatedMs: 2000}, &store.TurnRow{Visitor: "again", Text: "x", AtMs: 2000})
	if !errors.Is(err, store.ErrGone) {
		t.Fatalf("a later turn of an erased session: %v, want ErrGone", err)
	}
	if _, ok, _ := db.SessionState(ctx, "g"); ok {
		t.Error("the erased session came back")
	}
	if n, _ := db.Totals(ctx, 0); n.Messages != 0 {
		t.Errorf("%d messages written for an erased session", n.Messages)
	}
	err = db.SaveTurn(ctx, store.SessionRow{ID: "g", State: []byte(`{}`), Turns: 3, UpdatedMs: 2000}, nil)
	if !errors.Is(err, store.ErrGone) {
		t.Fatalf("the memory alone of an erased session: %v, want ErrGone", err)
	}
}

func testList(t *testing.T, db store.Backend) {
	turn(t, db, "a", 1, 1000, store.TurnRow{Visitor: "What are the opening hours?", Text: "10 to 6", Lang: "en", Kind: "intent", Intent: "opening_hours", KeyID: "k1"})
	turn(t, db, "b", 1, 2000, store.TurnRow{Visitor: "¿Cuánto cuesta?", Text: "12 €", Lang: "es", Kind: "intent", Intent: "prices", KeyID: "k2"})
	turn(t, db, "c", 1, 3000, store.TurnRow{Visitor: "100% off_sale?", Text: "no", Lang: "en", Kind: "fallback", KeyID: "k1"})
	turn(t, db, "a", 2, 4000, store.TurnRow{Visitor: "and on sunday", Text: "10 to 3", Lang: "en", Kind: "intent", Intent: "opening_hours", KeyID: "k1"})
	ids := func(q store.SessionQuery) []string {
		t.Helper()
		rows, err := db.ListSessions(ctx, q)
		must(t, err)
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	for _, c := range []struct {
		q    store.SessionQuery
		want []string
	}{
		{store.SessionQuery{}, []string{"a", "c", "b"}},
		{store.SessionQuery{Limit: 2}, []string{"a", "c"}},
		{store.SessionQuery{Before: 4000}, []string{"c", "b"}},
		{store.SessionQuery{Lang: "es"}, []string{"b"}},
		{store.SessionQuery{KeyID: "k1"}, []string{"a", "c"}},
		{store.SessionQuery{Intent: "opening_hours"}, []string{"a"}},
		{store.SessionQuery{From: 2000, To: 4000}, []string{"c", "b"}},
		{store.SessionQuery{Search: "SUNDAY"}, []string{"a"}}, // case-insensitive
		{store.SessionQuery{Search: "100%"}, []string{"c"}},   // a wildcard is a character
		{store.SessionQuery{Search: "0%"}, []string{"c"}},
		{store.SessionQuery{Search: "f_s"}, []string{"c"}},
		{store.SessionQuery{Search: "f_"}, []string{"c"}},
		{store.SessionQuery{Search: "e_s"}, nil},
		{store.SessionQuery{Search: `\`}, nil},
	} {
		if got := ids(c.q); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %v, want %v", c.q, got, c.want)
		}
	}
	rows, _ := db.ListSessions(ctx, store.SessionQuery{Lang: "en", KeyID: "k1", Intent: "opening_hours"})
	if len(rows) != 1 || rows[0].Preview != "What are the opening hours?" || rows[0].Turns != 2 || rows[0].CreatedMs != 1000 || rows[0].UpdatedMs != 4000 {
		t.Errorf("row: %+v", rows)
	}
}

func testEraseAndPurge(t *testing.T, db store.Backend) {
	for i, id := range []string{"old1", "old2", "new"} {
		turn(t, db, id, 1, int64(1000*(i+1)), store.TurnRow{Visitor: "q", Text: "a", Kind: "intent"})
	}
	if err := db.EraseSession(ctx, "nope", store.AuditEntry{Actor: "cli", Action: "session.erase"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("erase unknown: %v", err)
	}
	n, err := db.PurgeSessions(ctx, 2500, func(n int64) store.AuditEntry {
		return store.AuditEntry{Actor: "system", Action: "retention.purge", Detail: fmt.Sprint(n)}
	})
	if err != nil || n != 2 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if n, _ := db.PurgeSessions(ctx, 2500, func(int64) store.AuditEntry { t.Error("audited a purge of nothing"); return store.AuditEntry{} }); n != 0 {
		t.Errorf("second purge: %d", n)
	}
	tot, _ := db.Totals(ctx, 0)
	if tot.Sessions != 1 || tot.Messages != 2 {
		t.Errorf("after purge: %+v", tot)
	}
	must(t, db.EraseSession(ctx, "new", store.AuditEntry{Actor: "k9", Action: "session.erase", Target: "new", Remote: "198.18.0.1"}))
	tot, _ = db.Totals(ctx, 0)
	if tot.Sessions != 0 || tot.Messages != 0 {
		t.Errorf("after erase: %+v", tot)
	}
	log, _ := db.AuditSearch(ctx, store.AuditFilter{})
	if len(log) != 2 || log[0].Action != "session.erase" || log[0].Remote != "198.18.0.1" || log[1].Detail != "2" {
		t.Errorf("audit: %+v", log)
	}
}

func testKeys(t *testing.T, db store.Backend) {
	exp := int64(9e12)
	k1 := store.KeyRow{ID: "key1", Name: "kiosk", Hash: bytes.Repeat([]byte{1}, 32), Scopes: "chat,voice", Origins: "http://kiosk.local", Rate: "60/m", CreatedMs: 1000, ExpiresMs: &exp}
	must(t, db.InsertKey(ctx, k1, store.AuditEntry{Actor: "cli", Action: "key.create", Target: "key1"}))
	got, err := db.KeyRecord(ctx, "key1")
	must(t, err)
	if got.Name != "kiosk" || !bytes.Equal(got.Hash, k1.Hash) || got.Scopes != "chat,voice" || got.Origins != "http://kiosk.local" || got.Rate != "60/m" ||
		got.ExpiresMs == nil || *got.ExpiresMs != exp || got.RevokedMs != nil || got.LastUsedMs != nil || got.Uses != 0 {
		t.Errorf("record: %+v", got)
	}
	if _, err := db.KeyRecord(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	dup := k1
	dup.ID = "key9"
	if err := db.InsertKey(ctx, dup, store.AuditEntry{Actor: "cli", Action: "key.create"}); err == nil {
		t.Error("a second key with the same hash was stored")
	}
	// rotation: the new key and the old one's revocation in one transaction
	k2 := store.KeyRow{ID: "key2", Name: "kiosk", Hash: bytes.Repeat([]byte{2}, 32), Scopes: "chat", CreatedMs: 2000, RotatedFrom: "key1"}
	must(t, db.InsertKey(ctx, k2, store.AuditEntry{Actor: "cli", Action: "key.rotate", Target: "key2"}))
	if old, _ := db.KeyRecord(ctx, "key1"); old.RevokedMs == nil || *old.RevokedMs != 2000 {
		t.Errorf("rotated key not revoked: %+v", old)
	}
	k3 := store.KeyRow{ID: "key3", Name: "x", Hash: bytes.Repeat([]byte{3}, 32), Scopes: "chat", CreatedMs: 3000, RotatedFrom: "key1"}
	if err := db.InsertKey(ctx, k3, store.AuditEntry{Actor: "cli", Action: "key.rotate"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rotating a revoked key: %v", err)
	}
	if _, err := db.KeyRecord(ctx, "key3"); !errors.Is(err, store.ErrNotFound) {
		t.Error("a refused rotation stored its new key")
	}
	if err := db.RevokeKey(ctx, "key1", 5000, store.AuditEntry{Actor: "cli", Action: "key.revoke"}); !errors.Is(err, store.ErrAlreadyRevoked) {
		t.Errorf("revoke twice: %v", err)
	}
	if err := db.RevokeKey(ctx, "nope", 5000, store.AuditEntry{Actor: "cli", Action: "key.revoke"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown: %v", err)
	}
	must(t, db.AddKeyUsage(ctx, map[string]store.KeyUsage{"key2": {N: 3, LastMs: 7000}}))
	must(t, db.AddKeyUsage(ctx, map[string]store.KeyUsage{"key2": {N: 2, LastMs: 6000}, "nope": {N: 1, LastMs: 1}}))
	if k, _ := db.KeyRecord(ctx, "key2"); k.Uses != 5 || k.LastUsedMs == nil || *k.LastUsedMs != 7000 {
		t.Errorf("usage: %+v", k)
	}
	must(t, db.RevokeKey(ctx, "key2", 8000, store.AuditEntry{Actor: "cli", Action: "key.revoke", Target: "key2"}))
	all, err := db.KeyRecords(ctx)
	must(t, err)
	if len(all) != 2 || all[0].ID != "key2" || all[1].ID != "key1" {
		t.Errorf("list: %+v", all)
	}
	log, _ := db.AuditSearch(ctx, store.AuditFilter{Action: "key."})
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	if !slices.Equal(actions, []string{"key.revoke", "key.rotate", "key.create"}) {
		t.Errorf("audit: %v (a refused change must leave no entry)", actions)
	}
}

func testAudit(t *testing.T, db store.Backend) {
	for i := range 30 {
		actor := []string{"cli", "k1", "system"}[i%3]
		action := []string{"key.create", "session.erase", "config.change"}[i%3]
		must(t, db.Audit(ctx, store.AuditEntry{AtMs: int64(1000 + i), Actor: actor, Action: action, Target: fmt.Sprint(i), Detail: "d"}))
	}
	must(t, db.Audit(ctx, store.AuditEntry{Actor: "cli", Action: "keyboard"}))
	all, err := db.AuditSearch(ctx, store.AuditFilter{Limit: 1000})
	must(t, err)
	if len(all) != 31 || all[0].Action != "keyboard" || all[0].AtMs == 0 || all[30].Target != "0" {
		t.Fatalf("all: %d entries, first %+v", len(all), all[0])
	}
	page, _ := db.AuditSearch(ctx, store.AuditFilter{Before: all[9].ID, Limit: 5})
	if len(page) != 5 || page[0].ID != all[10].ID {
		t.Errorf("page: %+v", page)
	}
	byActor, _ := db.AuditSearch(ctx, store.AuditFilter{Actor: "k1", Limit: 1000})
	byAction, _ := db.AuditSearch(ctx, store.AuditFilter{Action: "key.", Limit: 1000})
	if len(byActor) != 10 || len(byAction) != 10 { // "keyboard" does not start with "key."
		t.Errorf("by actor %d, by action %d, want 10 and 10", len(byActor), len(byAction))
	}
	if def, _ := db.AuditSearch(ctx, store.AuditFilter{Limit: 5000}); len(def) != 31 {
		t.Errorf("an out-of-range limit: %d entries", len(def))
	}
}

func testLinks(t *testing.T, db store.Backend) {
	link, err := store.CreateLink(ctx, db, "http://127.0.0.1:8750")
	must(t, err)
	tok := link[len("http://127.0.0.1:8750/dashboard/link?t="):]
	if ok, err := store.UseLink(ctx, db, tok); !ok || err != nil {
		t.Fatalf("first use: %v %v", ok, err)
	}
	if ok, _ := store.UseLink(ctx, db, tok); ok {
		t.Error("a link signed in twice")
	}
	h := bytes.Repeat([]byte{7}, 32)
	must(t, db.InsertLink(ctx, h, 1000, 2000, store.AuditEntry{Actor: "cli", Action: "dashboard.link_created"}))
	if ok, _ := db.SpendLink(ctx, h, 2000); ok {
		t.Error("an expired link signed in")
	}
	if log, _ := db.AuditSearch(ctx, store.AuditFilter{Action: "dashboard."}); len(log) != 2 {
		t.Errorf("audit: %+v", log)
	}
}

// testTLSAndPairing: certificates by name, the first one kept when asked (two appliances making
// a CA at once), replaced otherwise; a pairing code used once, only within its time, its key
// recorded and the screen listed; the code's creation audited.
func testTLSAndPairing(t *testing.T, db store.Backend) {
	if _, _, ok, err := db.TLSMaterial(ctx, "ca"); ok || err != nil {
		t.Fatalf("a CA before any: %v %v", ok, err)
	}
	must(t, db.PutTLSMaterial(ctx, "ca", []byte("cert 1"), []byte("key 1"), true))
	must(t, db.PutTLSMaterial(ctx, "ca", []byte("cert 2"), []byte("key 2"), true))
	if c, k, ok, err := db.TLSMaterial(ctx, "ca"); !ok || err != nil || string(c) != "cert 1" || string(k) != "key 1" {
		t.Errorf("ifAbsent replaced the first CA: %q %q %v %v", c, k, ok, err)
	}
	must(t, db.PutTLSMaterial(ctx, "server@a", []byte("cert 3"), []byte("key 3"), false))
	must(t, db.PutTLSMaterial(ctx, "server@a", []byte("cert 4"), []byte("key 4"), false))
	if c, _, _, _ := db.TLSMaterial(ctx, "server@a"); string(c) != "cert 4" {
		t.Errorf("a renewed certificate not replaced: %q", c)
	}
	code, exp, err := db.CreatePairing(ctx, "lobby tablet", "kadmin", "192.0.2.7")
	must(t, err)
	if len(code) != 26 || time.Until(exp) < store.PairingTTL-time.Minute || time.Until(exp) > store.PairingTTL {
		t.Errorf("code %q expires %v", code, exp)
	}
	if screen, ok, err := db.UsePairing(ctx, " "+strings.ToUpper(code)+" "); !ok || err != nil || screen != "lobby tablet" {
		t.Fatalf("first use: %q %v %v", screen, ok, err)
	}
	if _, ok, _ := db.UsePairing(ctx, code); ok {
		t.Error("a pairing code used twice")
	}
	if _, ok, _ := db.UsePairing(ctx, "nosuchcode"); ok {
		t.Error("an unknown code used")
	}
	must(t, db.SetPairingKey(ctx, code, "Ab3dEf9h"))
	if ps, err := db.PairedScreens(ctx); err != nil || len(ps) != 1 || ps[0].Screen != "lobby tablet" || ps[0].KeyID != "Ab3dEf9h" {
		t.Errorf("paired screens: %+v %v", ps, err)
	}
	if log, _ := db.AuditSearch(ctx, store.AuditFilter{Action: "screen."}); len(log) != 1 || log[0].Target != "lobby tablet" {
		t.Errorf("audit: %+v", log)
	}
}

func testDashboard(t *testing.T, db store.Backend) {
	now := time.Now()
	at := now.Add(-time.Hour).UnixMilli()
	turn(t, db, "u1", 1, at, store.TurnRow{Visitor: "can I bring a drone", Text: "sorry", Lang: "en", Kind: "fallback"})
	turn(t, db, "u2", 1, at+1, store.TurnRow{Visitor: "can I bring a drone", Text: "sorry", Lang: "en", Kind: "fallback"})
	turn(t, db, "u3", 1, at+2, store.TurnRow{Visitor: "", Text: "a person will help", Lang: "en", Kind: "handoff"})
	turn(t, db, "u4", 1, at+3, store.TurnRow{Visitor: "opening hours", Text: "10", Lang: "en", Kind: "intent", Intent: "hours", Confidence: 0.3})
	turn(t, db, "u5", 1, at+4, store.TurnRow{Visitor: "opening hours", Text: "10", Lang: "en", Kind: "intent", Intent: "hours", Confidence: 0.9})
	turn(t, db, "u6", 1, at+5, store.TurnRow{Visitor: "tiket prize", Heard: []byte(`{"transcript":"ticket price","confidence":0.2}`), Text: "12", Lang: "en", Kind: "intent", Intent: "prices", Confidence: 0.95})
	turn(t, db, "u7", 1, now.Add(-30*24*time.Hour).UnixMilli(), store.TurnRow{Visitor: "can I bring a drone", Text: "sorry", Lang: "en", Kind: "fallback"})
	exp := now.Add(-time.Minute).UnixMilli()
	must(t, db.InsertKey(ctx, store.KeyRow{ID: "live", Name: "a", Hash: []byte("h1"), Scopes: "chat", CreatedMs: 1}, store.AuditEntry{Actor: "cli", Action: "key.create"}))
	must(t, db.InsertKey(ctx, store.KeyRow{ID: "gone", Name: "b", Hash: []byte("h2"), Scopes: "chat", CreatedMs: 1, ExpiresMs: &exp}, store.AuditEntry{Actor: "cli", Action: "key.create"}))
	tot, err := db.Totals(ctx, now.UnixMilli())
	must(t, err)
	if tot != (store.Totals{Sessions: 7, Messages: 14, ActiveKeys: 1}) {
		t.Errorf("totals: %+v", tot)
	}
	un, err := db.Unanswered(ctx, now.Add(-7*24*time.Hour).UnixMilli())
	must(t, err)
	if !slices.Equal(un, []store.Count{{Label: "can I bring a drone", N: 2}, {Label: "", N: 1}}) {
		t.Errorf("unanswered: %+v", un)
	}
	groups, err := db.TeachGroups(ctx, now.Add(-7*24*time.Hour), 0.5)
	must(t, err)
	got := map[string]store.TeachGroup{}
	for _, g := range groups {
		got[g.Text+"|"+g.Kind] = g
	}
	if len(groups) != 4 || groups[0].Text != "can I bring a drone" || groups[0].N != 2 {
		t.Fatalf("teach groups: %+v", groups)
	}
	if g := got["opening hours|intent"]; g.N != 1 || g.Conf != 0.3 || g.Intent != "hours" {
		t.Errorf("the unsure intent answer: %+v", g)
	}
	if g := got["ticket price|intent"]; g.N != 1 || g.Spoken != 1 || g.Heard != 0.2 || g.Last != at+5 {
		t.Errorf("the question heard unsure: %+v", g)
	}
	if g := got["|handoff"]; g.N != 1 {
		t.Errorf("the handoff: %+v", g)
	}
	var turns []store.BotTurn
	must(t, db.BotTurns(ctx, now.Add(-24*time.Hour).UnixMilli(), now.UnixMilli(), func(b store.BotTurn) { turns = append(turns, b) }))
	if len(turns) != 6 {
		t.Errorf("bot turns of the last day: %d, want 6", len(turns))
	}
}

func testSamples(t *testing.T, db store.Backend) {
	must(t, db.PutSamples(ctx, []store.SampleRow{{AtMs: 1000, Name: "a", Value: 1}, {AtMs: 2000, Name: "a", Value: 2}, {AtMs: 2000, Name: "b", Value: 5}}, 0))
	must(t, db.PutSamples(ctx, []store.SampleRow{{AtMs: 2000, Name: "a", Value: 3}, {AtMs: 3000, Name: "a", Value: 4}}, 1500))
	rows, err := db.Samples(ctx, 0)
	must(t, err)
	slices.SortFunc(rows, func(x, y store.SampleRow) int { return int(x.AtMs-y.AtMs)*10 + cmpStr(x.Name, y.Name) })
	if !slices.Equal(rows, []store.SampleRow{{AtMs: 2000, Name: "a", Value: 3}, {AtMs: 2000, Name: "b", Value: 5}, {AtMs: 3000, Name: "a", Value: 4}}) {
		t.Errorf("samples: %+v", rows)
	}
	first, ok, err := db.FirstSample(ctx, "a", 2500)
	if err != nil || !ok || first.AtMs != 3000 || first.Value != 4 {
		t.Errorf("first sample: %+v %v %v", first, ok, err)
	}
	if _, ok, err := db.FirstSample(ctx, "a", 5000); ok || err != nil {
		t.Errorf("no sample: %v %v", ok, err)
	}
	if st, err := db.Stats(ctx); err != nil || st.DBBytes <= 0 {
		t.Errorf("stats: %+v %v", st, err)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v < 1 {
		t.Errorf("schema version %d %v", v, err)
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testConcurrent: turns written at once by many goroutines are all stored, each session's
// messages in turn order, and each acknowledged turn is there to read at once.
func testConcurrent(t *testing.T, db store.Backend) {
	const sessions, turns = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for s := range sessions {
		wg.Go(func() {
			id := fmt.Sprintf("c%02d", s)
			for n := 1; n <= turns; n++ {
				err := db.SaveTurn(ctx, store.SessionRow{ID: id, State: []byte(fmt.Sprintf(`{"n":%d}`, n)), Turns: n, CreatedMs: 1, UpdatedMs: int64(n)},
					&store.TurnRow{Visitor: fmt.Sprintf("q%d", n), Text: fmt.Sprintf("a%d", n), Kind: "intent", AtMs: int64(n)})
				if err == nil {
					var st []byte
					st, _, err = db.SessionState(ctx, id)
					if err == nil && string(st) != fmt.Sprintf(`{"n":%d}`, n) {
						err = fmt.Errorf("%s: read %s after turn %d was acknowledged", id, st, n)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for s := range sessions {
		msgs, err := db.SessionMessages(ctx, fmt.Sprintf("c%02d", s))
		must(t, err)
		if len(msgs) != 2*turns {
			t.Fatalf("%d messages, want %d", len(msgs), 2*turns)
		}
		for i, m := range msgs {
			if m.Turn != i/2+1 || (i%2 == 0) != (m.Role == "visitor") {
				t.Fatalf("message %d: turn %d role %s", i, m.Turn, m.Role)
			}
		}
	}
}
