package store

// The dashboard's reads on SQLite (the dashboard package's Views): the Overview's totals, the
// unanswered questions, the metrics history and the Teach page's groups, the last read through
// the partial indexes of migrations 0004 and 0007.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
)

// Totals counts the stored sessions and messages and the API keys active at nowMs.
func (db *DB) Totals(ctx context.Context, nowMs int64) (Totals, error) {
	var t Totals
	row := db.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages),
		(SELECT count(*) FROM api_keys WHERE revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > ?))`, nowMs)
	err := row.Scan(&t.Sessions, &t.Messages, &t.ActiveKeys)
	return t, err
}

// Unanswered counts the questions the bot could not answer since a time, by the visitor's text.
// A turn's two messages are written by one statement (history.Save), so the visitor's message is
// the row before the bot's: found by rowid rather than by the session's messages (46 -> 25 ms at
// 100,000 messages). A bot message whose previous row is not its visitor's (rows written some
// other way) groups under NULL, listed first: then the join by session and turn answers.
func (db *DB) Unanswered(ctx context.Context, sinceMs int64) ([]Count, error) {
	raw, err := db.counts(ctx, `SELECT v.text, count(*) FROM messages b LEFT JOIN messages v
		ON v.id = b.id - 1 AND v.session_id = b.session_id AND v.turn = b.turn AND v.role = 'visitor'
		WHERE b.role = 'bot' AND b.kind IN ('fallback', 'handoff') AND b.created_ms >= ?
		GROUP BY 1 ORDER BY v.text IS NULL DESC, 2 DESC, 1 LIMIT 2000`, sinceMs)
	if errors.Is(err, errUnpaired) {
		raw, err = db.counts(ctx, `SELECT v.text, count(*) FROM messages b JOIN messages v
		ON v.session_id = b.session_id AND v.turn = b.turn AND v.role = 'visitor'
		WHERE b.role = 'bot' AND b.kind IN ('fallback', 'handoff') AND b.created_ms >= ?
		GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2000`, sinceMs)
	}
	return raw, err
}

// errUnpaired: a bot message's previous row is not its visitor's message.
var errUnpaired = errors.New("a bot message without its visitor's message before it")

// counts reads label and count rows; a NULL label is errUnpaired.
func (db *DB) counts(ctx context.Context, query string, sinceMs int64) ([]Count, error) {
	rows, err := db.r.QueryContext(ctx, query, sinceMs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		var label sql.NullString
		if err := rows.Scan(&label, &c.N); err != nil {
			return nil, err
		}
		if !label.Valid {
			return nil, errUnpaired
		}
		c.Label = label.String
		out = append(out, c)
	}
	return out, rows.Err()
}

// Samples reads the metrics history since sinceMs.
func (db *DB) Samples(ctx context.Context, sinceMs int64) ([]SampleRow, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT at_ms, name, value FROM metrics_history WHERE at_ms >= ?`, sinceMs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SampleRow
	for rows.Next() {
		var s SampleRow
		if err := rows.Scan(&s.AtMs, &s.Name, &s.Value); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// TeachGroups reads the Teach page's turns through the partial indexes when the threshold
// allows it and the turns' messages are next to each other, else by the scan of the week.
func (db *DB) TeachGroups(ctx context.Context, since time.Time, below float64) ([]TeachGroup, error) {
	if below <= teachIndexed {
		groups, ok, err := db.teachGroupsIndexed(ctx, since, below)
		if err != nil || ok {
			return groups, err
		}
	}
	return db.teachGroupsScan(ctx, since, below)
}

// teachGroupsScan groups the week's listed turns in SQL, reading every bot message since the time
// and its visitor's message by session and turn: correct for any threshold and any rows, but it
// reads the whole week (338 ms at 100,000 messages). teachGroupsIndexed answers the same.
func (db *DB) teachGroupsScan(ctx context.Context, since time.Time, below float64) ([]TeachGroup, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT coalesce(nullif(v.heard ->> '$.transcript', ''), v.text), b.lang, b.kind, b.intent, coalesce(b.confidence, 0),
			count(*), max(b.created_ms), count(v.heard), coalesce(min(v.heard ->> '$.confidence'), 0)
		FROM messages b JOIN messages v ON v.session_id = b.session_id AND v.turn = b.turn AND v.role = 'visitor'
		WHERE b.role = 'bot' AND b.created_ms >= ? AND (b.kind IN ('fallback', 'handoff', 'repair') OR (b.kind = 'intent' AND b.confidence < ?)
			OR v.heard ->> '$.confidence' < ?)
		GROUP BY 1, 2, 3, 4 ORDER BY 6 DESC, 7 DESC LIMIT 2000`, since.UnixMilli(), below, below)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TeachGroup
	for rows.Next() {
		var g TeachGroup
		if err := rows.Scan(&g.Text, &g.Lang, &g.Kind, &g.Intent, &g.Conf, &g.N, &g.Last, &g.Spoken, &g.Heard); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// teachIndexed is the threshold the partial indexes of migration 0007 (and 0004's
// messages_unanswered) are cut at: under it, every listed turn is in one of them.
const teachIndexed = 0.5

// teachGroupsIndexed answers as teachGroupsScan for a threshold up to teachIndexed, reading only
// the turns in the partial indexes: the fallback and handoff answers (messages_unanswered), the
// repairs and the intent answers under 0.5 (messages_unsure), and the visitors' messages heard
// under 0.5 (messages_heard_unsure); the turns are grouped here rather than by SQLite's sorter.
// A turn's two messages are written by one statement (history.Save), so the visitor's message is
// found by rowid next to the bot's, and both carry the turn's time. Where a listed message's
// neighbour is not the other message of its turn (rows written some other way), it reports
// !ok and teachGroupsScan answers.
func (db *DB) teachGroupsIndexed(ctx context.Context, since time.Time, below float64) ([]TeachGroup, bool, error) {
	// The week is read in teachParts spans of time at once, each on a connection of the read
	// pool, and their groups merged.
	from, span := since.UnixMilli(), time.Since(since).Milliseconds()/teachParts
	parts := make([]teachPart, teachParts)
	var wg sync.WaitGroup
	for i := range parts {
		lo, hi := from+int64(i)*span, from+int64(i+1)*span
		if i == 0 {
			lo = math.MinInt64 // the bounds of the week are those of the query
		}
		if i == len(parts)-1 {
			hi = math.MaxInt64
		}
		wg.Go(func() { parts[i].read(ctx, db.r, from, lo, hi, below) })
	}
	wg.Wait()
	out, idx := parts[0].groups, parts[0].idx
	for _, p := range parts {
		if p.err != nil {
			return nil, false, p.err
		}
		if !p.ok {
			return nil, false, nil
		}
	}
	for _, p := range parts[1:] {
		for k, j := range p.idx {
			o := p.groups[j]
			i, seen := idx[k]
			if !seen {
				idx[k] = len(out)
				out = append(out, o)
				continue
			}
			g := &out[i]
			g.N += o.N
			if o.Last > g.Last {
				g.Last, g.Conf = o.Last, o.Conf
			}
			g.Spoken += o.Spoken
			if o.HeardSet && (!g.HeardSet || o.Heard < g.Heard) {
				g.Heard, g.HeardSet = o.Heard, true
			}
		}
	}
	// as the SQL orders them: most asked, then newest; then by their words
	order := make([]int32, len(out)) // sorted by index: a group is 100 bytes to move
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &out[i], &out[j]
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(b.Last, a.Last),
			cmp.Compare(a.Text, b.Text), cmp.Compare(a.Lang, b.Lang), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Intent, b.Intent))
	})
	top := make([]TeachGroup, min(len(out), TeachGroupsLimit))
	for i := range top {
		top[i] = out[order[i]]
	}
	return top, true, nil
}

// teachParts is how many spans of time teachGroupsIndexed reads at once (the read pool has 4
// connections, the appliance 2 cores).
const teachParts = 2

// teachPart is the groups of one span of time.
type teachPart struct {
	groups []TeachGroup
	idx    map[string]int
	ok     bool
	err    error
}

// read groups the listed turns since the week's start (since) whose time is in [lo, hi): the
// bot's message's time, or the visitor's for a turn listed for what was heard.
func (p *teachPart) read(ctx context.Context, db *sql.DB, since, lo, hi int64, below float64) {
	const cols = `coalesce(nullif(v.heard ->> '$.transcript', ''), v.text), b.lang, b.kind, b.intent, coalesce(b.confidence, 0), b.created_ms, v.heard IS NOT NULL, v.heard ->> '$.confidence'`
	const visitor = `messages v ON v.id = b.id - 1 AND v.session_id = b.session_id AND v.turn = b.turn AND v.role = 'visitor'`
	query := `SELECT v.id IS NOT NULL, ` + cols + ` FROM messages b LEFT JOIN ` + visitor + `
			WHERE b.role = 'bot' AND b.kind IN ('fallback', 'handoff') AND b.created_ms >= ?1 AND b.created_ms >= ?4 AND b.created_ms < ?5
		UNION ALL
		SELECT v.id IS NOT NULL, ` + cols + ` FROM messages b LEFT JOIN ` + visitor + `
			WHERE b.role = 'bot' AND (b.kind = 'repair' OR (b.kind = 'intent' AND b.confidence < 0.5)) AND b.created_ms >= ?1 AND b.created_ms >= ?4 AND b.created_ms < ?5
				AND (v.id IS NULL OR b.kind = 'repair' OR b.confidence < ?2 OR v.heard ->> '$.confidence' < ?3)
		UNION ALL
		SELECT b.id IS NOT NULL, ` + cols + ` FROM messages v LEFT JOIN messages b ON b.id = v.id + 1 AND b.session_id = v.session_id AND b.turn = v.turn AND b.role = 'bot'
			WHERE v.role = 'visitor' AND v.heard ->> '$.confidence' < 0.5 AND v.created_ms >= ?1 AND v.created_ms >= ?4 AND v.created_ms < ?5
				AND (b.id IS NULL OR (b.created_ms >= ?1 AND v.heard ->> '$.confidence' < ?3
					AND (b.kind IN ('fallback', 'handoff') OR b.kind = 'repair' OR (b.kind = 'intent' AND b.confidence < 0.5)) IS NOT TRUE))`
	p.idx = map[string]int{}
	conn, err := db.Conn(ctx)
	if err != nil {
		p.err = err
		return
	}
	defer conn.Close()
	// Read through SQLite's own statement rather than database/sql's rows: the text of a turn
	// whose group is known is looked up without being copied (15,000 turns at 100,000 messages).
	p.err = conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("the store's connection is not SQLite's")
		}
		defer c.Raw().SetInterrupt(c.Raw().SetInterrupt(ctx))
		st, _, err := c.Raw().Prepare(query)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := errors.Join(st.BindInt64(1, since), st.BindFloat(2, below), st.BindFloat(3, below), st.BindInt64(4, lo), st.BindInt64(5, hi)); err != nil {
			return err
		}
		var key []byte
		for st.Step() {
			if !st.ColumnBool(0) {
				return nil // a message without its turn's other one next to it: p.ok stays false
			}
			// the group's key: text, language, kind and intent, each after its length
			key = key[:0]
			for col := 1; col <= 4; col++ {
				f := st.ColumnRawText(col)
				key = append(binary.AppendUvarint(key, uint64(len(f))), f...)
			}
			at, conf := st.ColumnInt64(6), st.ColumnFloat(5)
			i, seen := p.idx[string(key)]
			if !seen {
				k := string(key)
				var f [4]string // the fields share the key's bytes
				for j, at := 0, 0; j < 4; j++ {
					n, w := binary.Uvarint(key[at:])
					f[j], at = k[at+w:at+w+int(n)], at+w+int(n)
				}
				i = len(p.groups)
				p.idx[k] = i
				p.groups = append(p.groups, TeachGroup{Text: f[0], Lang: f[1], Kind: f[2], Intent: f[3], Conf: conf, Last: at})
			}
			g := &p.groups[i]
			g.N++
			if at > g.Last {
				g.Last, g.Conf = at, conf
			}
			if st.ColumnBool(7) {
				g.Spoken++
			}
			if st.ColumnType(8) != sqlite3.NULL {
				if h := st.ColumnFloat(8); !g.HeardSet || h < g.Heard {
					g.Heard, g.HeardSet = h, true
				}
			}
		}
		if err := st.Err(); err != nil {
			return err
		}
		p.ok = true
		return nil
	})
}
