-- 0007: the Teach page's questions read through partial indexes instead of every message of the
-- week. With messages_unanswered (0004: fallback and handoff answers) they hold every turn the
-- page lists at its default threshold: the repairs and the intent answers under 0.5 (bot
-- messages, messages_unsure), and the spoken questions heard with a confidence under 0.5
-- (visitor messages, messages_heard_unsure). A turn answered with confidence adds no entry; a
-- listed one adds one, at the end of its index.
--
-- The two indexes of bot messages carry what the Teach and Metrics pages read of them (the turn,
-- to find the visitor's message next to it, and the answer's language, kind, intent and
-- confidence), so that only the visitor's message is read from the table: 0004's
-- messages_unanswered is made again with them.
DROP INDEX messages_unanswered;
CREATE INDEX messages_unanswered ON messages(created_ms, session_id, turn, lang, kind, intent, confidence)
  WHERE role = 'bot' AND kind IN ('fallback', 'handoff');
CREATE INDEX messages_unsure ON messages(created_ms, session_id, turn, lang, kind, intent, confidence)
  WHERE role = 'bot' AND (kind = 'repair' OR (kind = 'intent' AND confidence < 0.5));
CREATE INDEX messages_heard_unsure ON messages(created_ms)
  WHERE role = 'visitor' AND heard ->> '$.confidence' < 0.5;
