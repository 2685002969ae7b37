package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"voicebot/backend/conversation"
	"voicebot/backend/history"
	"voicebot/backend/store"
)

// TestIOFaultAtNthOp: the Nth read, write, sync or truncate below SQLite fails with EIO or ENOSPC,
// for N from 1 on, while turns are written and read back (and the WAL truncated, as the
// checkpointer does when the store falls idle). Each time: a failing turn returns an error to its
// caller and is not acknowledged, an out-of-space error is reported as store.ErrFull and an I/O
// error is not, nothing panics, and once the fault clears the same turn is written. Then a fault
// that stays (a disk that stays full, a disk that keeps failing) refuses every turn until it
// clears, StorageFull reports it while it lasts, and the first turn after it succeeds. At the end
// the store, opened again, passes integrity_check and holds every acknowledged turn exactly once.
// VOICEBOT_IOFAULT_N sets how far N goes (default 12).
func TestIOFaultAtNthOp(t *testing.T) {
	maxN := envInt(t, "VOICEBOT_IOFAULT_N", 12)
	template := plTemplate(t)
	type fcase struct {
		op    store.Op
		errno syscall.Errno
	}
	cases := []fcase{{store.OpRead, syscall.EIO}, {store.OpWrite, syscall.EIO}, {store.OpWrite, syscall.ENOSPC},
		{store.OpSync, syscall.EIO}, {store.OpSync, syscall.ENOSPC}, {store.OpTruncate, syscall.EIO}, {store.OpTruncate, syscall.ENOSPC}}
	totalFired, totalRefused := 0, 0
	for _, c := range cases {
		name := fmt.Sprintf("%s-%s", c.op, map[syscall.Errno]string{syscall.EIO: "EIO", syscall.ENOSPC: "ENOSPC"}[c.errno])
		dir := t.TempDir()
		path := copyStore(t, template, dir)
		fv := store.UseFaultVFS(t, 5)
		ctx := context.Background()
		db, err := store.Open(ctx, path, plKey)
		if err != nil {
			t.Fatal(err)
		}
		hs := history.New(db)
		st := &conversation.State{ID: "s-" + name, Lang: "en", Created: time.Now()}
		var acked []turnID
		turn := func() error {
			st.Updated = time.Now()
			return hs.Put(ctx, st, &conversation.Turn{Visitor: visitorText(st.ID, st.Turns), At: st.Updated,
				Reply: conversation.Reply{Text: botText(st.ID, st.Turns), Lang: "en", Kind: conversation.KindIntent, Intent: "hours"}})
		}
		fired, refused := 0, 0
		check := func(err error, what string) {
			if err == nil {
				return
			}
			full := errors.Is(err, store.ErrFull)
			if c.errno == syscall.ENOSPC && c.op != store.OpRead && !full && what == "turn" {
				t.Errorf("%s: %s failed with %v, not reported as store.ErrFull", name, what, err)
			}
			if c.errno == syscall.EIO && full {
				t.Errorf("%s: %s failed with an I/O error reported as a full disk: %v", name, what, err)
			}
		}
		for n := 1; n <= maxN; n++ {
			// turns until the Nth operation has failed (a turn syncs once, so the Nth sync is in
			// the Nth turn)
			fv.FailNth(c.op, n, c.errno, false)
			var err error
			for try := 0; err == nil && fv.Fired() == 0 && try < n+3; try++ {
				st.Turns++
				err = turn()
				check(err, "turn")
				_, rerr := hs.Messages(ctx, st.ID)
				check(rerr, "read")
				if c.op == store.OpTruncate {
					check(db.TruncateWAL(), "truncate")
				}
				if err == nil {
					acked = append(acked, turnID{st.ID, st.Turns})
				}
			}
			if fv.Fired() == 0 {
				t.Errorf("%s, N=%d: the fault never fired", name, n)
			}
			fired += fv.ClearFault()
			if err != nil {
				refused++
				if err := turn(); err != nil { // the fault has cleared: the same turn again
					t.Fatalf("%s, N=%d: the turn once the fault cleared: %v", name, n, err)
				}
				acked = append(acked, turnID{st.ID, st.Turns})
			}
			if _, err := hs.Messages(ctx, st.ID); err != nil {
				t.Fatalf("%s, N=%d: reading once the fault cleared: %v", name, n, err)
			}
		}
		// a fault that stays until it is cleared
		if c.op == store.OpWrite || c.op == store.OpSync {
			fv.FailNth(c.op, 1, c.errno, true)
			for i := 0; i < 3; i++ {
				st.Turns++
				err := turn()
				if err == nil {
					t.Fatalf("%s: a turn acknowledged while every %s fails", name, c.op)
				}
				check(err, "turn")
				refused++
				st.Turns--
			}
			if full := db.StorageFull(); (c.errno == syscall.ENOSPC) != (full != nil) {
				t.Errorf("%s: StorageFull while every %s fails: %v", name, c.op, full)
			}
			fired += fv.ClearFault()
			st.Turns++
			if err := turn(); err != nil {
				t.Fatalf("%s: the first turn after the lasting fault cleared: %v", name, err)
			}
			acked = append(acked, turnID{st.ID, st.Turns})
			if full := db.StorageFull(); full != nil {
				t.Errorf("%s: StorageFull after a turn succeeded: %v", name, full)
			}
		}
		if err := db.Close(); err != nil {
			t.Logf("%s: close: %v", name, err)
		}
		store.RestoreVFS()
		if fired == 0 {
			t.Errorf("%s: no fault fired: the case tried nothing", name)
		}
		disk := map[string][]byte{}
		for _, f := range []string{"v.db", "v.db-wal"} {
			if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
				disk[f] = b
			}
		}
		if lost := plVerify(t, runResult{acked: acked, disk: disk}, name); lost > 0 {
			t.Errorf("%s: %d acknowledged turns lost", name, lost)
		}
		t.Logf("%s: N 1..%d, %d faults fired, %d turns refused and written once the fault cleared, %d acknowledged turns checked", name, maxN, fired, refused, len(acked))
		totalFired += fired
		totalRefused += refused
	}
	t.Logf("%d faults injected, %d turns refused, 0 panics, 0 acknowledged turns lost", totalFired, totalRefused)
}
