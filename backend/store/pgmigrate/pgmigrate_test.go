package pgmigrate_test

// The copy against real parts: an encrypted SQLite store filled through the store's and the keys'
// own code paths, a throwaway PostgreSQL server (backend/internal/pgtest), and the copy read back
// through the PostgreSQL store as an appliance reads it.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"voicebot/backend/appliance"
	"voicebot/backend/certs"
	"voicebot/backend/internal/pgtest"
	"voicebot/backend/keys"
	"voicebot/backend/store"
	"voicebot/backend/store/pgmigrate"
	"voicebot/backend/store/postgres"
)

var ctx = context.Background()

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// source is a filled SQLite store and what was put in it.
type source struct {
	path     string
	key      []byte
	db       *store.DB
	active   string // a key that works
	revoked  string // a key revoked before the copy
	linkTok  string // an unused dashboard sign-in link's token
	sessions []string
}

func newKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func openSQLite(t testing.TB, path string, key []byte) *store.DB {
	t.Helper()
	db, err := store.Open(ctx, path, key)
	must(t, err)
	return db
}

// fill makes a store with sessions of turns (every third a voice turn, every fifth a repair),
// keys (one revoked, one expiring, usage counted), audit entries, samples, the TLS material, a
// paired screen and a sign-in link, all through the code the appliance runs.
func fill(t testing.TB, dir string, sessions, turns int) *source {
	t.Helper()
	s := &source{path: filepath.Join(dir, "voicebot.db"), key: newKey()}
	s.db = openSQLite(t, s.path, s.key)
	ks := keys.NewService(s.db)
	plain, k1, err := ks.Create(ctx, keys.Spec{Name: "lobby tablet", Scopes: []string{"chat", "voice"}, Origins: []string{"http://kiosk.local"}, Rate: "30/m"}, "cli", "")
	must(t, err)
	s.active = plain
	old, k2, err := ks.Create(ctx, keys.Spec{Name: "old tablet", Scopes: []string{"chat"}}, "cli", "")
	must(t, err)
	s.revoked = old
	must(t, ks.Revoke(ctx, k2.ID, "cli", "192.0.2.1"))
	_, _, err = ks.Create(ctx, keys.Spec{Name: "temp", Scopes: []string{"admin"}, Expires: 720 * time.Hour}, "cli", "")
	must(t, err)
	must(t, s.db.AddKeyUsage(ctx, map[string]store.KeyUsage{k1.ID: {N: 42, LastMs: store.Now()}}))

	base := time.Now().Add(-time.Hour).UnixMilli()
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	sem := make(chan struct{}, 64) // concurrent sessions: the store groups their turns in commits
	for i := 0; i < sessions; i++ {
		id := fmt.Sprintf("s%06d-%s", i, hex.EncodeToString(newKey()[:6]))
		s.sessions = append(s.sessions, id)
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, id string) {
			defer wg.Done()
			defer func() { <-sem }()
			created := base + int64(i)
			for n := 1; n <= turns; n++ {
				at := created + int64(n)*10
				st, _ := json.Marshal(map[string]any{"id": id, "turn": n, "slots": map[string]string{"day": "monday"}})
				tr := &store.TurnRow{Visitor: fmt.Sprintf("when do you open %d", n), Text: "We open at nine.", Lang: "en", Kind: "intent", Intent: "hours",
					Confidence: 0.9, Sources: `[{"title":"Hours","path":"hours.md"}]`, LatencyUS: 1234, KeyID: k1.ID, AtMs: at}
				if (i+n)%3 == 0 {
					tr.Heard = []byte(`{"transcript":"when do you open","confidence":0.42,"alternatives":["when do you close"]}`)
				}
				if (i+n)%5 == 0 {
					offer := "when do you open"
					tr.Kind, tr.Offer, tr.Confidence = "repair", &offer, 0.3
				}
				if err := s.db.SaveTurn(ctx, store.SessionRow{ID: id, Lang: "en", KeyID: k1.ID, State: st, Turns: n, CreatedMs: created, UpdatedMs: at}, tr); err != nil {
					errs <- err
					return
				}
			}
		}(i, id)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	must(t, s.db.Audit(ctx, store.AuditEntry{Actor: "system", Action: "content.reloaded", Detail: "version 3"}))
	now := time.Now().Truncate(time.Minute).UnixMilli()
	must(t, s.db.PutSamples(ctx, []store.SampleRow{{AtMs: now - 120000, Name: "turns", Value: 3}, {AtMs: now - 60000, Name: "turns", Value: 5}, {AtMs: now - 60000, Name: "p99_ms", Value: 12.5}}, 0))
	ca, err := appliance.LoadCA(ctx, s.db)
	must(t, err)
	srv, err := certs.Issue(ca, certs.Hosts{DNS: []string{"kiosk1.local"}}, time.Now())
	must(t, err)
	must(t, s.db.PutTLSMaterial(ctx, "server", srv.CertPEM, srv.KeyPEM, false))
	code, _, err := s.db.CreatePairing(ctx, "hall screen", "cli", "")
	must(t, err)
	if _, ok, err := s.db.UsePairing(ctx, code); err != nil || !ok {
		t.Fatal("pairing", ok, err)
	}
	must(t, s.db.SetPairingKey(ctx, code, k1.ID))
	link, err := store.CreateLink(ctx, s.db, "http://127.0.0.1:8750")
	must(t, err)
	u, _ := url.Parse(link)
	s.linkTok = u.Query().Get("t")
	return s
}

func newTarget(t testing.TB, srv *pgtest.Server) (string, *postgres.DB) {
	t.Helper()
	dsn := srv.NewDatabase(t)
	pg, err := postgres.Open(ctx, dsn, "kiosk-1")
	must(t, err)
	t.Cleanup(func() { pg.Close() })
	return dsn, pg
}

func opts(s *source, pg *postgres.DB, batch int) pgmigrate.Options {
	return pgmigrate.Options{Source: s.db, Target: pg, Appliance: "kiosk-1", Batch: batch}
}

// TestCopyEverything fills a store, copies it in small batches, and reads the copy back through
// the PostgreSQL store: the same sessions with their memory, the same messages (voice turns'
// heard and repairs' offers included), the same keys (the active one authenticates, the revoked
// one is refused), audit, samples, the TLS material under the fleet's names, the paired screen,
// the unused sign-in link; then a second run says it is complete.
func TestCopyEverything(t *testing.T) {
	srv := pgtest.Start(t)
	s := fill(t, t.TempDir(), 30, 4)
	defer s.db.Close()
	_, pg := newTarget(t, srv)
	var progress bytes.Buffer
	o := opts(s, pg, 7)
	o.Progress = &progress
	res, err := pgmigrate.Run(ctx, o)
	must(t, err)
	if !res.OK() || res.AlreadyComplete || res.Resumed {
		t.Fatalf("result %+v", res)
	}
	want := map[string]int64{"sessions": 30, "messages": 240, "api_keys": 3, "tls_material": 2, "pairings": 1, "dashboard_links": 1, "metrics_history": 3}
	for _, tr := range res.Tables {
		if w, ok := want[tr.Table]; ok && (tr.Source != w || tr.Copied != w || tr.Target != w) {
			t.Errorf("%s: %+v, want %d", tr.Table, tr, w)
		}
	}
	for _, tr := range res.Tables {
		switch tr.Table {
		case "sessions", "messages", "audit", "api_keys":
			if tr.Content != "ok" {
				t.Errorf("%s: content %q, want ok", tr.Table, tr.Content)
			}
		}
	}
	for _, line := range []string{"sessions", "messages", "api_keys", "audit"} {
		if !strings.Contains(progress.String(), line) {
			t.Errorf("progress has no line for %s:\n%s", line, progress.String())
		}
	}

	// sessions and messages, as the history reads them
	for _, id := range s.sessions {
		a, err := s.db.Session(ctx, id)
		must(t, err)
		b, err := pg.Session(ctx, id)
		must(t, err)
		a.Appliance = "kiosk-1" // the rows are stamped with the appliance's name
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("session %s: sqlite %+v, postgres %+v", id, a, b)
		}
		sa, _, _ := s.db.SessionState(ctx, id)
		sb, ok, err := pg.SessionState(ctx, id)
		if err != nil || !ok || !bytes.Equal(sa, sb) {
			t.Fatalf("state %s: %s vs %s (%v)", id, sa, sb, err)
		}
		ma, err := s.db.SessionMessages(ctx, id)
		must(t, err)
		mb, err := pg.SessionMessages(ctx, id)
		must(t, err)
		if len(ma) != len(mb) {
			t.Fatalf("session %s: %d messages, copied %d", id, len(ma), len(mb))
		}
		for i := range ma {
			x, y := ma[i], mb[i]
			x.ID, y.ID, x.Appliance = 0, 0, "kiosk-1"
			if x.Heard != nil || y.Heard != nil {
				if !jsonEqual(x.Heard, y.Heard) {
					t.Fatalf("heard: %s vs %s", x.Heard, y.Heard)
				}
				x.Heard, y.Heard = nil, nil
			}
			if !reflect.DeepEqual(x, y) {
				t.Fatalf("message %d of %s:\n sqlite   %+v\n postgres %+v", i, id, x, y)
			}
		}
	}
	spoken := 0
	for _, id := range s.sessions[:3] {
		ms, _ := pg.SessionMessages(ctx, id)
		for _, m := range ms {
			if m.Heard != nil {
				spoken++
			}
		}
	}
	if spoken == 0 {
		t.Fatal("no voice turn among the copied messages")
	}

	// keys: the same records; a key made before the copy works against PostgreSQL
	ka, _ := s.db.KeyRecords(ctx)
	kb, _ := pg.KeyRecords(ctx)
	if !reflect.DeepEqual(ka, kb) {
		t.Fatalf("keys:\n sqlite   %+v\n postgres %+v", ka, kb)
	}
	pks := keys.NewService(pg)
	if k, err := pks.Verify(ctx, s.active); err != nil || k.Name != "lobby tablet" {
		t.Fatalf("the active key against PostgreSQL: %v", err)
	}
	if _, err := pks.Verify(ctx, s.revoked); err == nil {
		t.Fatal("the revoked key authenticates against PostgreSQL")
	}

	// audit, samples, TLS, pairing, link
	aa, _ := s.db.AuditSearch(ctx, store.AuditFilter{Limit: 1000})
	ab, _ := pg.AuditSearch(ctx, store.AuditFilter{Limit: 1000})
	if len(aa) != len(ab) || len(aa) < 4 {
		t.Fatalf("audit: %d entries, copied %d", len(aa), len(ab))
	}
	for i := range aa {
		x, y := aa[i], ab[i]
		x.ID, y.ID, x.Appliance = 0, 0, "kiosk-1"
		if x != y {
			t.Fatalf("audit %d: %+v vs %+v", i, x, y)
		}
	}
	sa, _ := s.db.Samples(ctx, 0)
	sb, _ := pg.Samples(ctx, 0)
	if len(sa) != 3 || len(sb) != 3 {
		t.Fatalf("samples %v vs %v", sa, sb)
	}
	for _, n := range [][2]string{{"ca", "ca"}, {"server", "server@kiosk-1"}} {
		c1, k1, ok1, _ := s.db.TLSMaterial(ctx, n[0])
		c2, k2, ok2, _ := pg.TLSMaterial(ctx, n[1])
		if !ok1 || !ok2 || !bytes.Equal(c1, c2) || !bytes.Equal(k1, k2) {
			t.Fatalf("TLS %s -> %s: copied %v", n[0], n[1], ok2)
		}
	}
	if _, _, ok, _ := pg.TLSMaterial(ctx, "server"); ok {
		t.Fatal(`the server certificate is also under "server" on the shared database`)
	}
	pa, _ := s.db.PairedScreens(ctx)
	pb, _ := pg.PairedScreens(ctx)
	if !reflect.DeepEqual(pa, pb) || len(pb) != 1 {
		t.Fatalf("paired screens %v vs %v", pa, pb)
	}
	if ok, err := store.UseLink(ctx, pg, s.linkTok); err != nil || !ok {
		t.Fatalf("the unused sign-in link does not sign in on PostgreSQL: %v %v", ok, err)
	}

	// again: complete, nothing copied twice
	res, err = pgmigrate.Run(ctx, opts(s, pg, 7))
	must(t, err)
	if !res.AlreadyComplete || !res.OK() {
		t.Fatalf("second run: %+v", res)
	}
	var n int
	must(t, pg.Pool().QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&n))
	if n != 240 {
		t.Fatalf("%d messages after a second run, want 240", n)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// The helper process of TestResumeAfterKill: it copies slowly (a pause after each batch) until
// the test kills it.
func TestMain(m *testing.M) {
	if os.Getenv("PGMIGRATE_HELPER") == "1" {
		os.Exit(helperCopy())
	}
	code := m.Run()
	if benchSrc != nil {
		benchSrc.db.Close()
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func helperCopy() int {
	key, _ := hex.DecodeString(os.Getenv("PGMIGRATE_KEY"))
	db, err := store.Open(ctx, os.Getenv("PGMIGRATE_STORE"), key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pg, err := postgres.Open(ctx, os.Getenv("PGMIGRATE_DSN"), "kiosk-1")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	batch, _ := strconv.Atoi(os.Getenv("PGMIGRATE_BATCH"))
	_, err = pgmigrate.Run(ctx, pgmigrate.Options{Source: db, Target: pg, Appliance: "kiosk-1", Batch: batch, Progress: os.Stderr,
		AfterBatch: func(string, int64) { time.Sleep(20 * time.Millisecond) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestResumeAfterKill runs the copy in another process, kills it (SIGKILL) in the middle of the
// messages, and runs it again: it goes on from the last committed batch, and the database ends
// with every row once.
func TestResumeAfterKill(t *testing.T) {
	srv := pgtest.Start(t)
	dir := t.TempDir()
	s := fill(t, dir, 40, 10) // 800 messages
	s.db.Close()
	dsn, pg := newTarget(t, srv)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGMIGRATE_HELPER=1", "PGMIGRATE_KEY="+hex.EncodeToString(s.key), "PGMIGRATE_STORE="+s.path, "PGMIGRATE_DSN="+dsn, "PGMIGRATE_BATCH=25")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	var copied int64
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := pg.Pool().QueryRow(ctx, `SELECT copied FROM voicebot_migration WHERE tbl = 'messages'`).Scan(&copied)
		if err == nil && copied >= 100 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the copy did not reach the messages: %v\n%s", err, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	must(t, cmd.Process.Kill())
	_ = cmd.Wait()
	var done bool
	must(t, pg.Pool().QueryRow(ctx, `SELECT copied, done FROM voicebot_migration WHERE tbl = 'messages'`).Scan(&copied, &done))
	var inDB int64
	must(t, pg.Pool().QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&inDB))
	if done || copied >= 800 || inDB != copied {
		t.Fatalf("after the kill: copied %d (done %v), %d messages in the database: want a copy killed half way, its progress and rows agreeing", copied, done, inDB)
	}
	t.Logf("killed with %d of 800 messages copied", copied)

	s.db = openSQLite(t, s.path, s.key)
	defer s.db.Close()
	res, err := pgmigrate.Run(ctx, opts(s, pg, 25))
	must(t, err)
	if !res.Resumed || !res.OK() {
		t.Fatalf("rerun: %+v", res)
	}
	must(t, pg.Pool().QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&inDB))
	var distinct int64
	must(t, pg.Pool().QueryRow(ctx, `SELECT count(*) FROM (SELECT DISTINCT session_id, turn, role FROM messages) x`).Scan(&distinct))
	if inDB != 800 || distinct != 800 {
		t.Fatalf("after the rerun: %d messages, %d distinct (session, turn, role): want 800 and 800", inDB, distinct)
	}
	for _, id := range s.sessions {
		a, _ := s.db.SessionMessages(ctx, id)
		b, _ := pg.SessionMessages(ctx, id)
		if len(a) != len(b) {
			t.Fatalf("session %s: %d messages, copied %d", id, len(a), len(b))
		}
		for i := range a {
			if a[i].Turn != b[i].Turn || a[i].Role != b[i].Role || a[i].Text != b[i].Text {
				t.Fatalf("session %s message %d out of order: %+v vs %+v", id, i, a[i], b[i])
			}
		}
	}
}

// TestRefusals: a database that holds data, another store's copy, a store changed since its copy.
func TestRefusals(t *testing.T) {
	srv := pgtest.Start(t)
	a := fill(t, t.TempDir(), 5, 2)
	defer a.db.Close()
	b := fill(t, t.TempDir(), 4, 2)
	defer b.db.Close()

	t.Run("DatabaseInUse", func(t *testing.T) {
		dsn, pg := newTarget(t, srv)
		other, err := postgres.Open(ctx, dsn, "kiosk-0") // another appliance has run on the database
		must(t, err)
		must(t, other.Audit(ctx, store.AuditEntry{Actor: "system", Action: "appliance.started"}))
		other.Close()
		_, err = pgmigrate.Run(ctx, opts(a, pg, 100))
		if err == nil || !strings.Contains(err.Error(), "--merge") || !strings.Contains(err.Error(), "audit") {
			t.Fatalf("a database with data: %v", err)
		}
		o := opts(a, pg, 100)
		o.Merge = true
		res, err := pgmigrate.Run(ctx, o)
		if err != nil || !res.OK() {
			t.Fatalf("--merge: %v %+v", err, res)
		}
	})

	t.Run("AnotherStore", func(t *testing.T) {
		_, pg := newTarget(t, srv)
		_, err := pgmigrate.Run(ctx, opts(a, pg, 100))
		must(t, err)
		_, err = pgmigrate.Run(ctx, opts(b, pg, 100))
		if err == nil || !strings.Contains(err.Error(), "another SQLite store") || !strings.Contains(err.Error(), a.path) {
			t.Fatalf("another store into a copied database: %v", err)
		}
		// merged: both stores' sessions side by side, b's CA not taken over the fleet's
		o := opts(b, pg, 100)
		o.Merge, o.Appliance = true, "kiosk-2"
		res, err := pgmigrate.Run(ctx, o)
		if err != nil || !res.OK() {
			t.Fatalf("merge: %v %+v", err, res)
		}
		for _, tr := range res.Tables {
			if (tr.Table == "messages" || tr.Table == "sessions") && (tr.Content != "ok" || tr.Target != tr.Copied) {
				t.Errorf("merged %s: %+v, want its content compared by the appliance's name", tr.Table, tr)
			}
		}
		var n int
		must(t, pg.Pool().QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&n))
		if n != 9 {
			t.Fatalf("%d sessions after the merge, want 5+4", n)
		}
		caA, _, _, _ := a.db.TLSMaterial(ctx, "ca")
		caPG, _, _, _ := pg.TLSMaterial(ctx, "ca")
		if !bytes.Equal(caA, caPG) || !strings.Contains(strings.Join(res.Notes, " "), "already had a CA") {
			t.Fatalf("the fleet's CA was not kept, or the operator not told: %v", res.Notes)
		}
		for _, name := range []string{"server@kiosk-1", "server@kiosk-2"} {
			if _, _, ok, _ := pg.TLSMaterial(ctx, name); !ok {
				t.Fatalf("no %s", name)
			}
		}
		// the same name twice is refused: the rows could not be told apart
		var before int
		must(t, pg.Pool().QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&before))
		c := fill(t, t.TempDir(), 1, 1)
		defer c.db.Close()
		o = opts(c, pg, 100)
		o.Merge = true
		if _, err := pgmigrate.Run(ctx, o); err == nil || !strings.Contains(err.Error(), `named "kiosk-1"`) {
			t.Fatalf("a second appliance under the same name: %v", err)
		}
		must(t, pg.Pool().QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&n))
		if n != before {
			t.Fatalf("the refused store wrote %d sessions", n-before)
		}
		var byName map[string]int = map[string]int{}
		rows, _ := pg.Pool().Query(ctx, `SELECT appliance, count(*) FROM messages GROUP BY appliance`)
		for rows.Next() {
			var name string
			var k int
			must(t, rows.Scan(&name, &k))
			byName[name] = k
		}
		if byName["kiosk-1"] != 20 || byName["kiosk-2"] != 16 || len(byName) != 2 {
			t.Fatalf("messages by appliance: %v, want kiosk-1: 20, kiosk-2: 16", byName)
		}
		// a copy of a's store (restored on another kiosk) merged under another name: its keys
		// are a's (the same secrets: kept once), its sessions are a's, refused by id
		clone := filepath.Join(t.TempDir(), "voicebot.db")
		must(t, a.db.Backup(ctx, clone))
		cdb := openSQLite(t, clone, a.key)
		defer cdb.Close()
		_, err = pgmigrate.Run(ctx, pgmigrate.Options{Source: cdb, Target: pg, Appliance: "kiosk-3", Batch: 100, Merge: true})
		if err == nil || !strings.Contains(err.Error(), "already in the database") || !strings.Contains(err.Error(), "copy of it") {
			t.Fatalf("a copy of a merged store, under another name: %v", err)
		}
		must(t, pg.Pool().QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&n))
		if n != before {
			t.Fatalf("the refused copy wrote %d sessions", n-before)
		}
	})

	t.Run("SourceChanged", func(t *testing.T) {
		_, pg := newTarget(t, srv)
		_, err := pgmigrate.Run(ctx, opts(a, pg, 100))
		must(t, err)
		must(t, a.db.SaveTurn(ctx, store.SessionRow{ID: "late", Lang: "en", State: []byte("{}"), Turns: 1, CreatedMs: 1, UpdatedMs: 1},
			&store.TurnRow{Visitor: "hi", Text: "hello", AtMs: 1}))
		_, err = pgmigrate.Run(ctx, opts(a, pg, 100))
		if err == nil || !strings.Contains(err.Error(), "--restart") {
			t.Fatalf("a store changed after its copy: %v", err)
		}
		o := opts(a, pg, 100)
		o.Restart = true
		res, err := pgmigrate.Run(ctx, o)
		if err != nil || !res.OK() {
			t.Fatalf("--restart: %v %+v", err, res)
		}
		if _, err := pg.Session(ctx, "late"); err != nil {
			t.Fatal("the late session is not in the fresh copy")
		}
	})
}
