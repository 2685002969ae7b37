-- 0002: the appliance's TLS material and the screens paired from the dashboard, as SQLite's
-- 0008. On a shared database the fleet has one certificate authority ("ca", made by the first
-- appliance to start: one CA for the operator to trust on every tablet) and a server
-- certificate per appliance ("server@" and its host name). The private keys are protected at
-- rest by the database server, as the rest of its data is (docs/OPERATIONS.md, PostgreSQL).
CREATE TABLE tls_material (
  name       text PRIMARY KEY,
  cert_pem   text NOT NULL,
  key_pem    text NOT NULL,
  created_ms bigint NOT NULL
);
CREATE TABLE pairings (
  code_hash  bytea PRIMARY KEY,  -- SHA-256 of the code; the code itself is never stored
  screen     text NOT NULL,
  created_by text NOT NULL DEFAULT '',
  created_ms bigint NOT NULL,
  expires_ms bigint NOT NULL,
  used_ms    bigint,
  key_id     text NOT NULL DEFAULT ''
);
