package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// latestVersion is the number of embedded migrations: the version Open leaves a store at.
func latestVersion(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(migrations, "sql/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v %v", files, err)
	}
	return len(files)
}

// schemaOf lists the store's tables and indexes with their SQL (the sqlite_ ones left out).
func schemaOf(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
		WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// seedAt writes representative rows into a store at version v with the columns that version
// has: two sessions (one with a fallback turn the unanswered-questions index covers), their
// messages, a live key, a revoked and an expiring one, audit entries, a cache entry, metrics
// history and, from version 3, a dashboard link.
func seedAt(t *testing.T, db *sql.DB, v int) {
	t.Helper()
	stmts := []string{
		`INSERT INTO sessions(id, lang, state, key_id, turns, created_ms, updated_ms) VALUES
			('s-en', 'en', '{"last_intent":"opening_hours","slots":{"day":"sunday"}}', 'k1', 2, 1000, 2000),
			('s-es', 'es', '{}', 'k2', 1, 3000, 3000)`,
		`INSERT INTO messages(session_id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms) VALUES
			('s-en', 1, 'visitor', 'what are the opening hours?', 'en', '', '', NULL, '', NULL, 'k1', 1000),
			('s-en', 1, 'bot', 'We are open Tuesday to Friday.', 'en', 'intent', 'opening_hours', 0.97, '', 1234, 'k1', 1001),
			('s-en', 2, 'visitor', 'and on sunday?', 'en', '', '', NULL, '', NULL, 'k1', 2000),
			('s-en', 2, 'bot', 'On Sundays 10:00 to 15:00.', 'en', 'intent', 'opening_hours', 0.88, '[{"title":"Hours","path":"hours.md"}]', 987, 'k1', 2001),
			('s-es', 1, 'visitor', '¿hay un tiburón?', 'es', '', '', NULL, '', NULL, 'k2', 3000),
			('s-es', 1, 'bot', 'Lo siento, no lo sé.', 'es', 'fallback', '', 0.12, '', 555, 'k2', 3001)`,
		`INSERT INTO api_keys(id, name, hash, scopes, origins, rate, created_ms, expires_ms, revoked_ms, last_used_ms, use_count, rotated_from) VALUES
			('k1', 'kiosk', x'01', 'chat,voice', '', '60/m', 100, NULL, NULL, 2001, 7, ''),
			('k2', 'tablet', x'02', 'chat', 'http://tablet.lan', '', 200, 99999999999999, NULL, NULL, 0, ''),
			('k0', 'old kiosk', x'03', 'chat', '', '', 50, NULL, 150, 140, 3, '')`,
		`INSERT INTO audit(at_ms, actor, action, target, remote, detail) VALUES
			(100, 'cli', 'key.create', 'k1', '', 'kiosk'),
			(150, 'cli', 'key.revoke', 'k0', '', ''),
			(4000, 'k1', 'session.erase', 's-gone', '192.168.1.20', 'visitor asked')`,
		`INSERT INTO cache_entries(key, value, expires_ms) VALUES ('reply:en:hours', x'cafe', 99999999999999)`,
		`INSERT INTO metrics_history(at_ms, name, value) VALUES (60000, 'turns', 12), (60000, 'p99_ms', 25.8)`,
	}
	if v >= 3 {
		stmts = append(stmts, `INSERT INTO dashboard_links(token_hash, created_ms, expires_ms, used_ms) VALUES (x'aa', 10, 20, NULL), (x'bb', 10, 20, 15)`)
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("seed at version %d: %v\n%s", v, err, s)
		}
	}
}

// dump reads a table's rows as text (columns in declared order, NULL spelled out), sorted by
// the given ORDER BY, to compare before and after the upgrade.
func dump(t *testing.T, db *sql.DB, table, cols, order string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT ` + cols + ` FROM ` + table + ` ORDER BY ` + order)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	n := len(strings.Split(cols, ","))
	var out []string
	for rows.Next() {
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			switch x := v.(type) {
			case nil:
				parts = append(parts, "NULL")
			case []byte:
				parts = append(parts, fmt.Sprintf("x'%x'", x))
			default:
				parts = append(parts, fmt.Sprint(x))
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The tables and their columns as version 1 wrote them (every later version keeps them).
var v1Tables = []struct{ table, cols, order string }{
	{"sessions", "id, lang, state, key_id, turns, created_ms, updated_ms", "id"},
	{"messages", "id, session_id, turn, role, text, lang, kind, intent, confidence, sources, latency_us, key_id, created_ms", "id"},
	{"api_keys", "id, name, hash, scopes, origins, rate, created_ms, expires_ms, revoked_ms, last_used_ms, use_count, rotated_from", "id"},
	{"audit", "id, at_ms, actor, action, target, remote, detail", "id"},
	{"cache_entries", "key, value, expires_ms", "key"},
	{"metrics_history", "at_ms, name, value", "at_ms, name"},
}

// TestUpgradeFromEveryOlderSchemaKeepsData: a store left at each older schema version (1 to the
// one before the latest) by an older program, holding sessions, messages, keys, audit entries,
// cache, metrics and dashboard links written with that version's columns, is opened by Open:
// every row is kept as it was, the columns added since read as their defaults (heard and offer
// NULL: a typed turn), the indexes are those of a new store (messages_unanswered present and
// used by the unanswered-questions query, the indexes 0005 dropped gone), user_version is the
// latest, the foreign keys still cascade, and the store takes new writes.
func TestUpgradeFromEveryOlderSchemaKeepsData(t *testing.T) {
	ctx := context.Background()
	latest := latestVersion(t)

	fresh := openTest(t, filepath.Join(t.TempDir(), "fresh.db"), testKey(40))
	want := schemaOf(t, fresh.Read())

	for v := 1; v < latest; v++ {
		t.Run(fmt.Sprintf("from_v%d", v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "v.db")
			key := testKey(byte(40 + v))
			old := openAt(t, path, key, v)
			var at int
			if err := old.QueryRow(`PRAGMA user_version`).Scan(&at); err != nil || at != v {
				t.Fatalf("old store at version %d %v, want %d", at, err, v)
			}
			seedAt(t, old, v)
			before := map[string][]string{}
			for _, tb := range v1Tables {
				before[tb.table] = dump(t, old, tb.table, tb.cols, tb.order)
			}
			var links []string
			if v >= 3 {
				links = dump(t, old, "dashboard_links", "token_hash, created_ms, expires_ms, used_ms", "token_hash")
			}
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}

			db := openTest(t, path, key)
			r := db.Read()
			if got, err := db.SchemaVersion(ctx); err != nil || got != latest {
				t.Fatalf("user_version after the upgrade from %d: %d %v, want %d", v, got, err, latest)
			}
			for _, tb := range v1Tables {
				if got := dump(t, r, tb.table, tb.cols, tb.order); !reflect.DeepEqual(got, before[tb.table]) {
					t.Errorf("%s after the upgrade from %d:\n got %q\nwant %q", tb.table, v, got, before[tb.table])
				}
			}
			if v >= 3 {
				if got := dump(t, r, "dashboard_links", "token_hash, created_ms, expires_ms, used_ms", "token_hash"); !reflect.DeepEqual(got, links) {
					t.Errorf("dashboard_links after the upgrade from %d: got %q, want %q", v, got, links)
				}
			}
			var n int
			if err := r.QueryRow(`SELECT count(*) FROM messages WHERE heard IS NULL AND offer IS NULL`).Scan(&n); err != nil || n != 6 {
				t.Errorf("messages with the new columns NULL (typed turns) after the upgrade from %d: %d %v, want 6", v, n, err)
			}
			if v < 3 {
				if err := r.QueryRow(`SELECT count(*) FROM dashboard_links`).Scan(&n); err != nil || n != 0 {
					t.Errorf("dashboard_links after the upgrade from %d: %d rows %v, want an empty table", v, n, err)
				}
			}
			if got := schemaOf(t, r); !reflect.DeepEqual(got, want) {
				t.Errorf("schema after the upgrade from %d differs from a new store's:\n got %q\nwant %q", v, got, want)
			}
			for _, idx := range []string{"sessions_updated", "messages_session", "audit_at", "messages_unanswered"} {
				if err := r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, idx).Scan(&n); err != nil || n != 1 {
					t.Errorf("index %s after the upgrade from %d: %d %v", idx, v, n, err)
				}
			}
			for _, idx := range []string{"messages_created", "messages_key", "messages_intent"} {
				if err := r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, idx).Scan(&n); err != nil || n != 0 {
					t.Errorf("index %s (dropped by 0005) after the upgrade from %d: %d %v", idx, v, n, err)
				}
			}
			var plan strings.Builder
			rows, err := r.Query(`EXPLAIN QUERY PLAN SELECT text FROM messages WHERE role = 'bot' AND kind IN ('fallback', 'handoff') AND created_ms >= 0`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id, parent, notused int
				var detail string
				rows.Scan(&id, &parent, &notused, &detail)
				plan.WriteString(detail + "; ")
			}
			rows.Close()
			if !strings.Contains(plan.String(), "messages_unanswered") {
				t.Errorf("the unanswered-questions query after the upgrade from %d does not use messages_unanswered: %s", v, plan.String())
			}
			var unanswered string
			if err := r.QueryRow(`SELECT text FROM messages WHERE role = 'bot' AND kind IN ('fallback', 'handoff') AND created_ms >= 0`).Scan(&unanswered); err != nil || unanswered != "Lo siento, no lo sé." {
				t.Errorf("unanswered question after the upgrade from %d: %q %v", v, unanswered, err)
			}
			var integrity string
			if err := r.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
				t.Errorf("integrity_check after the upgrade from %d: %q %v", v, integrity, err)
			}
			if log, err := db.AuditLog(ctx, 0, 10); err != nil || len(log) != 3 || log[0].Action != "session.erase" || log[2].Target != "k1" {
				t.Errorf("AuditLog after the upgrade from %d: %+v %v", v, log, err)
			}

			// The upgraded store takes the newest program's writes: a voice turn with heard on an
			// old session, and an erase that cascades to the session's old messages.
			err = db.Write(ctx, func(tx *Tx) error {
				if _, err := tx.Exec(`INSERT INTO messages(session_id, turn, role, text, created_ms, heard) VALUES ('s-en', 3, 'visitor', 'where is the cafe', 5000, '{"transcript":"where is the cafe","confidence":0.9}')`); err != nil {
					return err
				}
				_, err := tx.Exec(`DELETE FROM sessions WHERE id = 's-es'`)
				return err
			})
			if err != nil {
				t.Fatalf("write after the upgrade from %d: %v", v, err)
			}
			if err := r.QueryRow(`SELECT count(*) FROM messages WHERE session_id = 's-es'`).Scan(&n); err != nil || n != 0 {
				t.Errorf("an erased old session's messages after the upgrade from %d: %d left %v, want the cascade to delete them", v, n, err)
			}
			if err := r.QueryRow(`SELECT count(*) FROM messages WHERE session_id = 's-en' AND heard IS NOT NULL`).Scan(&n); err != nil || n != 1 {
				t.Errorf("voice turn written after the upgrade from %d: %d %v", v, n, err)
			}
		})
	}
}
