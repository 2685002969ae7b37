-- 0004: kiosks that forward to this database from a local outbox (fleet: in their settings;
-- backend/fleet ships, fleet.go here ingests). fleet_appliances holds each kiosk's high-water
-- mark: the last outbox seq it shipped, updated in the same transaction as the batch's rows, so
-- that a batch shipped again (the kiosk did not hear the commit, or crashed before deleting its
-- rows) is skipped, never applied twice. It also keeps what the dashboard shows of each kiosk:
-- its last contact and the backlog it reported then.
CREATE TABLE fleet_appliances (
  appliance       text PRIMARY KEY,
  shipped_seq     bigint NOT NULL DEFAULT 0,  -- the last outbox seq applied
  shipped_rows    bigint NOT NULL DEFAULT 0,  -- outbox rows applied, all told
  first_contact_ms bigint NOT NULL,
  last_contact_ms bigint NOT NULL,            -- the last batch or heartbeat
  last_ship_ms    bigint NOT NULL DEFAULT 0,  -- the last batch that carried rows
  backlog_rows    bigint NOT NULL DEFAULT 0,  -- rows left in its outbox after the last contact
  backlog_bytes   bigint NOT NULL DEFAULT 0,
  oldest_ms       bigint NOT NULL DEFAULT 0   -- when the oldest of them was written (0: none)
);
