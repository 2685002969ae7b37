-- 0002: per-key usage and per-intent queries for the dashboard without full scans.
CREATE INDEX messages_key ON messages(key_id, created_ms);
CREATE INDEX messages_intent ON messages(intent, created_ms) WHERE role = 'bot';
