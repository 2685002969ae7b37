-- 0006: a kiosk's outbox seqs are its store's: the high-water mark belongs to one store, named by
-- its identity (an HMAC under the store's key, store.DB.Identity). A second store shipping under a
-- name another store ships under (kiosks cloned from one image share a host name) is refused,
-- never skipped as shipped nor allowed to purge the first one's sessions. '' until the first
-- batch after this migration claims the name.
ALTER TABLE fleet_appliances ADD COLUMN store_id text NOT NULL DEFAULT '';
