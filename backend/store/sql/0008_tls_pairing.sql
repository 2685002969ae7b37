-- 0008: the appliance's TLS material and the screens paired from the dashboard.
-- tls_material holds the appliance's own certificate authority ("ca") and the server
-- certificate it issued ("server"), each as PEM with its private key: the store is encrypted
-- with the store key, so the keys are sealed at rest as everything else in it is.
CREATE TABLE tls_material (
  name       TEXT PRIMARY KEY,
  cert_pem   TEXT NOT NULL,
  key_pem    TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
-- pairings: one-time codes shown as a QR code on the dashboard's Keys page; a screen trades its
-- code (once, within 10 minutes) for a chat+voice key of its own (key_id once used).
CREATE TABLE pairings (
  code_hash  BLOB PRIMARY KEY,   -- SHA-256 of the code; the code itself is never stored
  screen     TEXT NOT NULL,      -- the operator's name for the screen
  created_by TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  used_ms    INTEGER,
  key_id     TEXT NOT NULL DEFAULT ''
);
