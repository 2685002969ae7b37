-- 0004: the dashboard's list of unanswered questions reads only the fallback and handoff answers.
CREATE INDEX messages_unanswered ON messages(created_ms) WHERE role = 'bot' AND kind IN ('fallback', 'handoff');
