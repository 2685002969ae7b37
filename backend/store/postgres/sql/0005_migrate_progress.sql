-- 0005: the progress of `voicebot migrate` (backend/store/pgmigrate), which copies an
-- appliance's SQLite store into this database. One row per source store (its id is derived from
-- the store's key, so a different SQLite file is told apart) and one per table copied from it:
-- each batch of rows is written in the same transaction as the row's last_key and copied, so a
-- copy killed at any point goes on where it stopped, without duplicates.
CREATE TABLE voicebot_migration_source (
  source_id   text PRIMARY KEY,
  source      text NOT NULL,            -- the SQLite file's path, as the command saw it
  appliance   text NOT NULL DEFAULT '', -- the appliance the rows are stamped with
  fingerprint text NOT NULL,            -- the source's row counts and high-water marks at the start
  merge       boolean NOT NULL DEFAULT false,
  started_ms  bigint NOT NULL,
  finished_ms bigint
);
CREATE TABLE voicebot_migration (
  source_id text NOT NULL REFERENCES voicebot_migration_source(source_id) ON DELETE CASCADE,
  tbl       text NOT NULL,
  last_key  text NOT NULL DEFAULT '',   -- the last source key copied (keyset order)
  copied    bigint NOT NULL DEFAULT 0,  -- rows written
  kept      bigint NOT NULL DEFAULT 0,  -- rows not written on purpose (the same row already there, on a merge)
  total     bigint NOT NULL DEFAULT 0,  -- the source's rows
  done      boolean NOT NULL DEFAULT false,
  PRIMARY KEY (source_id, tbl)
);
