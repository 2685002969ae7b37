-- 0001: the PostgreSQL schema, the same tables as SQLite's migrations 0001 to 0007 (the SQLite
-- store's own numbering goes on separately: these files are PostgreSQL's). Times are Unix
-- milliseconds. A message's heard column is jsonb, so that the Teach page reads its confidence
-- with ->>.
CREATE TABLE sessions (
  id         text PRIMARY KEY,
  lang       text NOT NULL DEFAULT '',
  state      text NOT NULL,           -- the engine's memory of the session, JSON
  key_id     text NOT NULL DEFAULT '',
  turns      integer NOT NULL DEFAULT 0,
  created_ms bigint NOT NULL,
  updated_ms bigint NOT NULL
);
CREATE INDEX sessions_updated ON sessions(updated_ms);

CREATE TABLE messages (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  turn       integer NOT NULL,
  role       text NOT NULL CHECK (role IN ('visitor', 'bot')),
  text       text NOT NULL,
  lang       text NOT NULL DEFAULT '',
  kind       text NOT NULL DEFAULT '',
  intent     text NOT NULL DEFAULT '',
  confidence double precision,
  sources    text NOT NULL DEFAULT '',  -- JSON array of {title, path}
  latency_us bigint,
  key_id     text NOT NULL DEFAULT '',
  created_ms bigint NOT NULL,
  heard      jsonb,                     -- the visitor's message of a voice turn: {transcript, confidence, alternatives}
  offer      text                       -- the bot's message of a repair: the reading offered
);
-- a session's transcript, and a turn's two messages found from either
CREATE INDEX messages_session ON messages(session_id, turn, id);
-- the Teach and Metrics pages' listed turns, as SQLite's 0004 and 0007
CREATE INDEX messages_unanswered ON messages(created_ms) WHERE role = 'bot' AND kind IN ('fallback', 'handoff');
CREATE INDEX messages_unsure ON messages(created_ms) WHERE role = 'bot' AND (kind = 'repair' OR (kind = 'intent' AND confidence < 0.5));
CREATE INDEX messages_heard_unsure ON messages(created_ms) WHERE role = 'visitor' AND (heard ->> 'confidence')::double precision < 0.5;
-- the metrics rollup's read at start (bot messages of the last week)
CREATE INDEX messages_bot_created ON messages(created_ms) WHERE role = 'bot';

CREATE TABLE api_keys (
  id           text PRIMARY KEY,          -- public identifier, shown in lists and logs
  name         text NOT NULL,
  hash         bytea NOT NULL UNIQUE,     -- SHA-256 of the whole key; the key itself is never stored
  scopes       text NOT NULL,             -- comma separated
  origins      text NOT NULL DEFAULT '',  -- comma separated allowlist; empty = any
  rate         text NOT NULL DEFAULT '',  -- e.g. 60/m; empty = the configured default
  created_ms   bigint NOT NULL,
  expires_ms   bigint,
  revoked_ms   bigint,
  last_used_ms bigint,
  use_count    bigint NOT NULL DEFAULT 0,
  rotated_from text NOT NULL DEFAULT ''
);

CREATE TABLE audit (
  id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at_ms  bigint NOT NULL,
  actor  text NOT NULL,            -- key id, "cli" or "system"
  action text NOT NULL,
  target text NOT NULL DEFAULT '',
  remote text NOT NULL DEFAULT '',
  detail text NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at_ms);

CREATE TABLE metrics_history (
  at_ms bigint NOT NULL,
  name  text NOT NULL,
  value double precision NOT NULL,
  PRIMARY KEY (at_ms, name)
);

CREATE TABLE dashboard_links (
  token_hash bytea PRIMARY KEY,   -- SHA-256 of the link's token; the token itself is never stored
  created_ms bigint NOT NULL,
  expires_ms bigint NOT NULL,
  used_ms    bigint
);
