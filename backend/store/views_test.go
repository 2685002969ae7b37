package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTeachIndexedAsScan: the Teach page's groups read through the partial indexes are those the
// scan of the week's messages groups, on turns of every kind (repeated questions, spoken ones
// heard sure and unsure, an intent answered sure of a question heard unsure, a voice turn that
// heard nothing, turns older than the week, two languages), at thresholds under and at the
// indexes' 0.5; over 0.5 the scan answers. Where a turn's two messages are not next to each other
// (written some other way than history.Save), the indexed read reports it and the scan answers.
func TestTeachIndexedAsScan(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "v.db"), bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v := db
	now := time.Now()
	since := now.Add(-7 * 24 * time.Hour)
	turn := randomTurns(t, db, now)
	same := func(t *testing.T, below float64, wantOK bool) {
		t.Helper()
		scan, err := v.teachGroupsScan(ctx, since, below)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := v.teachGroupsIndexed(ctx, since, below)
		if err != nil || ok != wantOK {
			t.Fatalf("below %.2f: indexed read ok=%v err=%v, want ok=%v", below, ok, err, wantOK)
		}
		if !ok {
			return
		}
		if len(scan) < 20 {
			t.Fatalf("below %.2f: %d groups: the data does not exercise the page", below, len(scan))
		}
		key := func(g TeachGroup) string { return g.Text + "|" + g.Lang + "|" + g.Kind + "|" + g.Intent }
		for _, gs := range [][]TeachGroup{scan, got} {
			slices.SortFunc(gs, func(a, b TeachGroup) int { return strings.Compare(key(a), key(b)) })
		}
		show := func(gs []TeachGroup) map[string]string {
			m := map[string]string{}
			for _, g := range gs {
				m[key(g)] = fmt.Sprintf("n=%d last=%d spoken=%d heard=%g conf=%g", g.N, g.Last, g.Spoken, g.Heard, g.Conf)
			}
			return m
		}
		want, have := show(scan), show(got)
		for k, w := range want {
			if have[k] != w {
				t.Errorf("below %.2f: %q: indexed %q, scan %q", below, k, have[k], w)
			}
		}
		for k, h := range have {
			if _, ok := want[k]; !ok {
				t.Errorf("below %.2f: %q: indexed %q, not in the scan", below, k, h)
			}
		}
	}
	for _, below := range []float64{0, 0.3, 0.46, 0.5} {
		same(t, below, true)
	}
	var plans strings.Builder
	rows, err := db.r.Query(`EXPLAIN QUERY PLAN SELECT id FROM messages b WHERE b.role = 'bot' AND (b.kind = 'repair' OR (b.kind = 'intent' AND b.confidence < 0.5)) AND b.created_ms >= 0
		UNION ALL SELECT id FROM messages v WHERE v.role = 'visitor' AND v.heard ->> '$.confidence' < 0.5 AND v.created_ms >= 0`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a, b, c int
		var detail string
		rows.Scan(&a, &b, &c, &detail)
		plans.WriteString(detail + "\n")
	}
	rows.Close()
	for _, idx := range []string{"messages_unsure", "messages_heard_unsure"} {
		if !strings.Contains(plans.String(), "INDEX "+idx) {
			t.Errorf("the Teach page's query does not use %s:\n%s", idx, plans.String())
		}
	}

	// a turn written as two statements apart: the indexed read gives way to the scan
	writeApart(t, db, turn, now.Add(-time.Hour).UnixMilli())
	same(t, 0.5, false)
	scan, _ := v.teachGroupsScan(ctx, since, 0.5)
	if !slices.ContainsFunc(scan, func(g TeachGroup) bool { return g.Text == "may I bring a drone" }) {
		t.Error("the scan does not list the question whose messages are apart")
	}
}
