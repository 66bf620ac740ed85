-- edgechat schema v1: accounts, sessions (refresh-token families) and signing keys.
-- Times are milliseconds since the Unix epoch (the envelope's clock).

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,          -- stored lower-cased: uniqueness is case-insensitive
  email         TEXT,
  password_hash TEXT,                          -- NULL for guests; "pbkdf2_sha256$iter$salt$hash"
  is_guest      INTEGER NOT NULL DEFAULT 0,
  role          TEXT NOT NULL DEFAULT 'user',  -- user | guest | admin
  disabled_at   INTEGER,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

-- One row per login; a session is a family of refresh tokens.
CREATE TABLE sessions (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  revoked_at    INTEGER,
  revoke_reason TEXT                           -- logout | reuse | disabled
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE refresh_tokens (
  token_hash  TEXT PRIMARY KEY,                -- hex SHA-256; the token itself is never stored
  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  replaced_by TEXT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens(expires_at);

CREATE TABLE signing_keys (
  kid         TEXT PRIMARY KEY,                -- RFC 7638 thumbprint, or KID for PRIVATE_KEY_PEM
  alg         TEXT NOT NULL,
  public_jwk  TEXT NOT NULL,
  private_jwk TEXT,                            -- NULL for the PRIVATE_KEY_PEM key (never persisted)
  source      TEXT NOT NULL,                   -- generated | secret
  created_at  INTEGER NOT NULL,
  retired_at  INTEGER
);
