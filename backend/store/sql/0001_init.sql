-- 0001: the first schema. Times are Unix milliseconds.
CREATE TABLE sessions (
  id         TEXT PRIMARY KEY,
  lang       TEXT NOT NULL DEFAULT '',
  state      TEXT NOT NULL,           -- the engine's memory of the session, JSON
  key_id     TEXT NOT NULL DEFAULT '',
  turns      INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX sessions_updated ON sessions(updated_ms);

CREATE TABLE messages (
  id         INTEGER PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  turn       INTEGER NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('visitor', 'bot')),
  text       TEXT NOT NULL,
  lang       TEXT NOT NULL DEFAULT '',
  kind       TEXT NOT NULL DEFAULT '',
  intent     TEXT NOT NULL DEFAULT '',
  confidence REAL,
  sources    TEXT NOT NULL DEFAULT '',  -- JSON array of {title, path}
  latency_us INTEGER,
  key_id     TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL
);
CREATE INDEX messages_session ON messages(session_id, id);
CREATE INDEX messages_created ON messages(created_ms);

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,          -- public identifier, shown in lists and logs
  name         TEXT NOT NULL,
  hash         BLOB NOT NULL UNIQUE,      -- SHA-256 of the whole key; the key itself is never stored
  scopes       TEXT NOT NULL,             -- comma separated
  origins      TEXT NOT NULL DEFAULT '',  -- comma separated allowlist; empty = any
  rate         TEXT NOT NULL DEFAULT '',  -- e.g. 60/m; empty = the configured default
  created_ms   INTEGER NOT NULL,
  expires_ms   INTEGER,
  revoked_ms   INTEGER,
  last_used_ms INTEGER,
  use_count    INTEGER NOT NULL DEFAULT 0,
  rotated_from TEXT NOT NULL DEFAULT ''
);

CREATE TABLE audit (
  id     INTEGER PRIMARY KEY,
  at_ms  INTEGER NOT NULL,
  actor  TEXT NOT NULL,            -- key id, "cli" or "system"
  action TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  remote TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at_ms);

CREATE TABLE cache_entries (
  key        TEXT PRIMARY KEY,
  value      BLOB NOT NULL,
  expires_ms INTEGER NOT NULL
);

CREATE TABLE metrics_history (
  at_ms INTEGER NOT NULL,
  name  TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (at_ms, name)
) WITHOUT ROWID;
