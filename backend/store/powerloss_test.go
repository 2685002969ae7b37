package store_test

// Power loss below SQLite, with real turns: history.Store.Put (the engine's write of a turn: the
// session's memory and the turn's two messages in one grouped transaction) over a store whose
// disk is the fault VFS (faultvfs_test.go). A run writes turns from concurrent writers; the power
// is cut at one of its syncs (of the WAL at a commit, of the database file or the WAL at a
// checkpoint, at the store's close), with the writes not yet synced dropped, torn, or partly
// reordered; the disk left is opened again and must pass PRAGMA integrity_check, hold every turn
// acknowledged before the cut, and hold every turn whole or not at all.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/store"
)

var plKey = []byte("0123456789abcdef0123456789abcdef")

type turnID struct {
	session string
	turn    int
}

// workload: writers concurrent writers, each answering turns turns in each of sessions sessions
// (round robin, so that a writer's sessions interleave).
type workload struct{ writers, sessions, turns int }

func (w workload) total() int { return w.writers * w.sessions * w.turns }

// plTemplate makes a migrated, closed store to copy for each run (so that a run is turns, not
// migrations).
func plTemplate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "v.db"), plKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "v.db")
}

func visitorText(id string, n int) string { return fmt.Sprintf("question %d of %s", n, id) }
func botText(id string, n int) string {
	return fmt.Sprintf("answer %d to %s, with a longer text than the question", n, id)
}

// runResult is what a run acknowledged and what the disk held when it ended.
type runResult struct {
	acked []turnID
	cut   bool
	on    string // the file whose sync the cut fell on
	disk  map[string][]byte
	syncs int
}

// plRun writes the workload's turns into a copy of the template with the power cut at sync
// cutAt (0: never).
func plRun(t *testing.T, template string, w workload, cutAt int, mode store.CutMode, seed uint64) runResult {
	t.Helper()
	dir, err := os.MkdirTemp("", "powerloss")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := copyStore(t, template, dir)
	fv := store.UseFaultVFS(t, seed)
	fv.CutPowerAt(cutAt, mode)
	ctx := context.Background()
	var res runResult
	db, err := store.Open(ctx, path, plKey)
	if err == nil {
		// a small WAL bound, so that checkpoints and restarts happen within a short run
		if err := db.SetWALLimit(128 << 10); err != nil {
			t.Fatal(err)
		}
		hs := history.New(db)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for wr := 0; wr < w.writers; wr++ {
			wg.Add(1)
			go func(wr int) {
				defer wg.Done()
				states := make([]*conversation.State, w.sessions)
				now := time.Now()
				for s := range states {
					states[s] = &conversation.State{ID: fmt.Sprintf("s%d-%d", wr, s), Lang: "en", Created: now}
				}
				for n := 1; n <= w.turns; n++ {
					for _, st := range states {
						st.Turns, st.Updated, st.LastIntent = n, time.Now(), "hours"
						turn := &conversation.Turn{Visitor: visitorText(st.ID, n), At: st.Updated, Latency: time.Millisecond,
							Reply: conversation.Reply{Text: botText(st.ID, n), Lang: "en", Kind: conversation.KindIntent, Intent: "hours", Confidence: 0.9}}
						if err := hs.Put(ctx, st, turn); err != nil {
							return // the power is off: this writer stops
						}
						mu.Lock()
						res.acked = append(res.acked, turnID{st.ID, n})
						mu.Unlock()
					}
				}
			}(wr)
		}
		wg.Wait()
		db.Close() // its checkpoint's syncs are sync points too; after a cut it fails
	}
	res.syncs = fv.Syncs("")
	res.cut, res.disk = fv.Cut()
	if res.cut {
		res.on, _ = fv.CutInfo()
	} else {
		res.disk = fv.Snapshot()
	}
	store.RestoreVFS()
	return res
}

// plVerify opens what the disk held and checks it: integrity_check ok, every acknowledged turn
// present, every turn whole (the session's count of turns and both messages of each, no message
// past it), and the store writable again. It returns the acknowledged turns lost.
func plVerify(t *testing.T, res runResult, label string) int {
	t.Helper()
	dir, err := os.MkdirTemp("", "powerloss-after")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := store.OpenAfterCut(t, dir, res.disk, plKey)
	if err != nil {
		t.Errorf("%s: %v", label, err)
		return len(res.acked)
	}
	defer db.Close()
	ctx := context.Background()

	turns := map[string]int{}
	rows, err := db.Read().QueryContext(ctx, `SELECT id, turns, state FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, state string
		var n int
		if err := rows.Scan(&id, &n, &state); err != nil {
			t.Fatal(err)
		}
		var st conversation.State
		if err := json.Unmarshal([]byte(state), &st); err != nil || st.Turns != n || st.ID != id {
			t.Errorf("%s: session %s: state %q does not match its row (turns %d): %v", label, id, state, n, err)
		}
		turns[id] = n
	}
	rows.Close()
	msgs := map[turnID]map[string]string{}
	rows, err = db.Read().QueryContext(ctx, `SELECT session_id, turn, role, text FROM messages`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, role, text string
		var n int
		if err := rows.Scan(&id, &n, &role, &text); err != nil {
			t.Fatal(err)
		}
		k := turnID{id, n}
		if msgs[k] == nil {
			msgs[k] = map[string]string{}
		}
		if _, dup := msgs[k][role]; dup {
			t.Errorf("%s: turn %v has two %s messages", label, k, role)
		}
		msgs[k][role] = text
	}
	rows.Close()
	for k, m := range msgs {
		if n, ok := turns[k.session]; !ok || k.turn > n {
			t.Errorf("%s: half-written turn %v: its messages are there, the session's row says %d turns (row there: %v)", label, k, n, ok)
		}
		if m["visitor"] != visitorText(k.session, k.turn) || m["bot"] != botText(k.session, k.turn) {
			t.Errorf("%s: turn %v is not whole: %q", label, k, m)
		}
	}
	for id, n := range turns {
		for i := 1; i <= n; i++ {
			if len(msgs[turnID{id, i}]) != 2 {
				t.Errorf("%s: session %s says %d turns, turn %d has messages %v", label, id, n, i, msgs[turnID{id, i}])
			}
		}
	}
	lost := 0
	for _, k := range res.acked {
		if turns[k.session] < k.turn || len(msgs[k]) != 2 {
			lost++
			if lost <= 3 {
				t.Errorf("%s: acknowledged turn %v lost (the session has %d turns)", label, k, turns[k.session])
			}
		}
	}
	// the recovered store takes turns again
	hs := history.New(db)
	st := &conversation.State{ID: "after-the-cut", Lang: "en", Turns: 1, Created: time.Now(), Updated: time.Now()}
	if err := hs.Put(ctx, st, &conversation.Turn{Visitor: "still there?", At: time.Now(), Reply: conversation.Reply{Text: "yes", Lang: "en", Kind: conversation.KindIntent}}); err != nil {
		t.Errorf("%s: a turn after recovery: %v", label, err)
	}
	return lost
}

// plTally counts what the power-cut tests tried.
type plTally struct {
	points, cuts, acked, lost int
	byFile                    map[string]int
	byMode                    map[string]int
}

func (p *plTally) add(res runResult, mode store.CutMode, lost int) {
	if p.byFile == nil {
		p.byFile, p.byMode = map[string]int{}, map[string]int{}
	}
	p.points++
	if res.cut {
		p.cuts++
		p.byFile[res.on]++
		p.byMode[mode.String()]++
	}
	p.acked += len(res.acked)
	p.lost += lost
}

func (p *plTally) String() string {
	return fmt.Sprintf("%d power-cut points (%d cut mid-run: by file %v, by mode %v), %d acknowledged turns checked, %d lost",
		p.points, p.cuts, p.byFile, p.byMode, p.acked, p.lost)
}

// TestPowerCutAtEverySyncPoint: a run of turns from two writers is counted once for its syncs,
// then run again with the power cut at each sync point in turn, in each of the three ways the
// writes not yet synced can reach the disk (none, in order up to a torn one, any of them with a
// torn one).
func TestPowerCutAtEverySyncPoint(t *testing.T) {
	template := plTemplate(t)
	w := workload{writers: 2, sessions: 2, turns: 3}
	count := plRun(t, template, w, 0, store.CutDrop, 1)
	if len(count.acked) != w.total() {
		t.Fatalf("the run without a cut acknowledged %d of %d turns", len(count.acked), w.total())
	}
	if lost := plVerify(t, count, "no cut"); lost > 0 {
		t.Fatalf("without a power cut, %d turns lost", lost)
	}
	n := count.syncs
	if n < w.total() {
		t.Fatalf("%d syncs for %d turns: want one per commit at least", n, w.total())
	}
	var tally plTally
	for mode := store.CutDrop; mode <= store.CutReorder; mode++ {
		for k := 1; k <= n+2; k++ { // +2: a rerun can sync more than the count (checkpoints are timed)
			res := plRun(t, template, w, k, mode, uint64(k))
			lost := plVerify(t, res, fmt.Sprintf("cut at sync %d/%d (%s, on %s)", k, n, mode, res.on))
			tally.add(res, mode, lost)
			// A rerun can sync less than the count did (fewer timed checkpoints, commits grouped
			// otherwise on a busy machine): a cut past its last sync does not fall. One that
			// reached sync k must have been cut there.
			if !res.cut && res.syncs >= k {
				t.Errorf("cut at sync %d (%s): the run made %d syncs and was not cut", k, mode, res.syncs)
			}
		}
	}
	t.Logf("every sync point of a %d-turn run (%d syncs), 3 ways: %s", w.total(), n, &tally)
	if tally.lost > 0 {
		t.Errorf("%d acknowledged turns lost", tally.lost)
	}
	if tally.cuts < 3*w.total() {
		t.Errorf("only %d of the %d cuts fell inside a run: fewer than one per commit", tally.cuts, 3*n)
	}
}

// TestPowerCutAtRandomPoints: a longer run (four writers, 60 turns) cut at random syncs, in a
// random one of the three ways. VOICEBOT_POWERCUT_POINTS sets how many (default 90, for CI),
// VOICEBOT_POWERCUT_SEED the seed (default 1).
func TestPowerCutAtRandomPoints(t *testing.T) {
	points := envInt(t, "VOICEBOT_POWERCUT_POINTS", 90)
	seed := uint64(envInt(t, "VOICEBOT_POWERCUT_SEED", 1))
	template := plTemplate(t)
	w := workload{writers: 4, sessions: 3, turns: 5}
	count := plRun(t, template, w, 0, store.CutDrop, seed)
	if len(count.acked) != w.total() {
		t.Fatalf("the run without a cut acknowledged %d of %d turns", len(count.acked), w.total())
	}
	n := count.syncs
	rng := rand.New(rand.NewPCG(seed, 3))
	var tally plTally
	t0 := time.Now()
	for i := 0; i < points; i++ {
		k := 1 + rng.IntN(n)
		mode := store.CutMode(rng.IntN(3))
		res := plRun(t, template, w, k, mode, rng.Uint64())
		lost := plVerify(t, res, fmt.Sprintf("point %d: cut at sync %d/%d (%s, on %s)", i, k, n, mode, res.on))
		tally.add(res, mode, lost)
		if t.Failed() && tally.lost > 0 {
			break
		}
	}
	t.Logf("seed %d, random sync points of a %d-turn run (%d syncs): %s, in %s", seed, w.total(), n, &tally, time.Since(t0).Round(time.Millisecond))
	if tally.lost > 0 {
		t.Errorf("%d acknowledged turns lost", tally.lost)
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

// copyStore copies a freshly made store file (a template, so that each run need not migrate one)
// into dir as v.db and returns its path.
func copyStore(t *testing.T, template, dir string) string {
	t.Helper()
	b, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "v.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
