-- edgechat schema v4: credits, usage metering and idempotent writes.
-- Amounts are integers in micro-credits (1 credit = 1,000,000): prices per 1k tokens are small
-- fractions of a credit, and integer sums never drift. Times are milliseconds since the epoch.

-- One balance per user, created lazily with the grant for its kind of account (GUEST_CREDITS or
-- SIGNUP_CREDITS). The CHECK is the last line of defence: every debit is also guarded in its WHERE.
CREATE TABLE credit_accounts (
  user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  balance    INTEGER NOT NULL CHECK (balance >= 0),
  updated_at INTEGER NOT NULL
);

-- Append-only: every change to a balance is one row, written in the same batch as the change, so
-- SUM(delta) over a user's rows is always their balance. The triggers refuse edits and deletes.
CREATE TABLE credit_ledger (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  delta         INTEGER NOT NULL,
  balance_after INTEGER NOT NULL,
  kind          TEXT NOT NULL,   -- grant | adjust | debit | hold | settle | release
  ref           TEXT,            -- the hold, usage event or adjustment the row belongs to
  reason        TEXT,
  request_id    TEXT,
  created_at    INTEGER NOT NULL
);
CREATE INDEX credit_ledger_user ON credit_ledger(user_id, created_at);
CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;
CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END;

-- A streamed AI call reserves its worst-case price before it starts and settles the real price
-- when it ends, so concurrent calls can never spend the same credits twice. A hold that is never
-- settled (the isolate died mid-call) is released by cleanup after expires_at.
CREATE TABLE credit_holds (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL,
  amount       INTEGER NOT NULL,
  charged      INTEGER,
  request_id   TEXT,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  settled_at   INTEGER,
  settle_token TEXT               -- marks which settle attempt won, for the statements after it
);
CREATE INDEX credit_holds_open ON credit_holds(expires_at) WHERE settled_at IS NULL;

-- One row per metered AI call (and per usage a client reports), kept USAGE_TTL_DAYS.
CREATE TABLE usage_events (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  kind       TEXT NOT NULL,        -- chat | completion | report | embedding
  route      TEXT,
  provider   TEXT NOT NULL,
  model      TEXT NOT NULL,
  tokens_in  INTEGER NOT NULL,
  tokens_out INTEGER NOT NULL,
  estimated  INTEGER NOT NULL DEFAULT 0,  -- token counts estimated, not reported by the provider
  cost       INTEGER NOT NULL,      -- the price of the call, micro-credits
  charged    INTEGER NOT NULL,      -- what was debited (less than cost only if a hold ran short)
  request_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX usage_events_user ON usage_events(user_id, created_at);
CREATE INDEX usage_events_time ON usage_events(created_at);

-- Idempotency-Key: the first result of a write, replayed for a repeat with the same body.
-- scope is who sent it (u:<user id> or ip:<address>); request_hash covers method, path and body.
CREATE TABLE idempotency_keys (
  scope        TEXT NOT NULL,
  key          TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  state        TEXT NOT NULL,      -- running | done
  status       INTEGER,
  headers      TEXT,
  body         TEXT,
  locked_until INTEGER NOT NULL,   -- a running entry older than this was abandoned: retry may run
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys(expires_at);
