-- 0009: the outbox of a kiosk that forwards to a fleet's PostgreSQL (fleet: in the settings,
-- backend/fleet). With the outbox on, every turn, audit entry, erase and purge also writes one row
-- here in the same transaction; the shipper sends the rows in seq order in batches and deletes
-- them once the fleet database has committed them. AUTOINCREMENT: a seq is never reused, even
-- after every row was shipped and deleted, since the fleet database skips the seqs it already
-- holds (its fleet_appliances.shipped_seq). The payload is self-contained JSON (backend/store
-- outbox.go), so shipping does not depend on the rows it came from still existing.
CREATE TABLE outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL CHECK (kind IN ('turn', 'audit', 'erase', 'purge')),
  session_id TEXT NOT NULL DEFAULT '',   -- a turn's or an erase's session
  at_ms      INTEGER NOT NULL,           -- when it was written (the backlog's age)
  payload    BLOB NOT NULL             -- JSON; a BLOB so that the backlog's bytes are summed from the row headers
);
-- No index on session_id: an erase or a purge, which drops its sessions' unshipped turns, scans
-- the outbox (empty while the link is up; a day's backlog offline is a few thousand rows), and a
-- turn pays for no second B-tree.
