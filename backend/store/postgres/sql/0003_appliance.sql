-- 0003: the fleet. Several appliances share this database: each row says which appliance wrote it
-- (its name: `appliance:` in its settings, by default its host name), so that the dashboard of
-- any of them shows the whole fleet, filterable by appliance. Rows written before this migration
-- have ''. The sampled metrics are kept per appliance (their per-minute counts were overwriting
-- each other), and read summed.
ALTER TABLE sessions ADD COLUMN appliance text NOT NULL DEFAULT '';  -- where it started
ALTER TABLE messages ADD COLUMN appliance text NOT NULL DEFAULT '';  -- which appliance answered the turn
ALTER TABLE audit ADD COLUMN appliance text NOT NULL DEFAULT '';
CREATE INDEX messages_appliance ON messages(appliance, session_id);
CREATE INDEX audit_appliance ON audit(appliance, id);

ALTER TABLE metrics_history ADD COLUMN appliance text NOT NULL DEFAULT '';
ALTER TABLE metrics_history DROP CONSTRAINT metrics_history_pkey;
ALTER TABLE metrics_history ADD PRIMARY KEY (at_ms, name, appliance);

-- The fleet's members: each appliance on this database heartbeats its row while it runs.
CREATE TABLE appliances (
  name         text PRIMARY KEY,
  version      text NOT NULL DEFAULT '',
  started_ms   bigint NOT NULL DEFAULT 0,
  last_seen_ms bigint NOT NULL DEFAULT 0
);

-- The per-key rate limits, held for the whole fleet: one GCRA cell per key and route (its
-- theoretical arrival time, in the server's clock, ms), updated in one statement per request;
-- ok is whether that last request was let through. Unlogged: a server crash refills the buckets.
CREATE UNLOGGED TABLE rate_cells (
  id  bytea PRIMARY KEY,  -- the bucket: key id and route (with NUL bytes)
  tat double precision NOT NULL,
  ok  boolean NOT NULL
);
