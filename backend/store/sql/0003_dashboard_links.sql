-- 0003: one-time sign-in links for the dashboard, printed by `voicebot dashboard-link` on the box.
CREATE TABLE dashboard_links (
  token_hash BLOB PRIMARY KEY,   -- SHA-256 of the link's token; the token itself is never stored
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  used_ms    INTEGER
);
