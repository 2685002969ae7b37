-- 0005: indexes no query uses any more (the dashboard's per-minute figures come from an
-- in-memory rollup): each cost a B-tree insert per message on the write path.
DROP INDEX messages_created;
DROP INDEX messages_key;
DROP INDEX messages_intent;
