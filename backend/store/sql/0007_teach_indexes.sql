-- 0007: the Teach page's questions read through partial indexes instead of every message of the
-- week. With 0004's messages_unanswered (fallback and handoff answers) they hold every turn the
-- page lists at its default threshold: the repairs and the intent answers under 0.5 (bot
-- messages), and the spoken questions heard with a confidence under 0.5 (visitor messages).
-- A turn answered with confidence adds no entry; one listed adds one, at the end of the index.
CREATE INDEX messages_unsure ON messages(created_ms) WHERE role = 'bot' AND (kind = 'repair' OR (kind = 'intent' AND confidence < 0.5));
CREATE INDEX messages_heard_unsure ON messages(created_ms) WHERE role = 'visitor' AND heard ->> '$.confidence' < 0.5;
