-- edgechat schema v5: background jobs, and what cleanup needs to find its garbage.
-- Times are milliseconds since the Unix epoch.

-- One row per background job. The core owns the state machine (src/jobs/job_runner.hpp):
--   queued → running → succeeded | failed (a permanent error) | cancelled
--   running → queued again with a backoff (a transient error, attempts left) → … → dead
-- A queue message carries only the job's id; whoever claims the row runs it. A running attempt
-- holds a lease (lease_until, renewed at every progress checkpoint): a row still 'running' past its
-- lease belongs to an attempt that died, and may be claimed again. `attempts` counts claims and is
-- the fencing token: an attempt writes only while the row still has its attempt number.
CREATE TABLE jobs (
  id               TEXT PRIMARY KEY,                -- job_…
  user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,  -- NULL: a system job (cleanup)
  type             TEXT NOT NULL,                   -- ingest | reindex | cleanup
  state            TEXT NOT NULL DEFAULT 'queued',  -- queued | running | succeeded | failed | dead | cancelled
  payload          TEXT NOT NULL DEFAULT '{}',      -- JSON object, as the client may see it
  result           TEXT,                            -- JSON, once succeeded
  progress         REAL NOT NULL DEFAULT 0,         -- 0..1
  progress_note    TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL,
  error_code       TEXT,                            -- the last attempt's error
  error_message    TEXT,
  run_after        INTEGER NOT NULL,                -- not claimed before this (retry backoff, delays)
  lease_until      INTEGER,                         -- while running
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  ref              TEXT,                            -- internal: what it works on (a document's uid)
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  started_at       INTEGER,
  finished_at      INTEGER
);
-- Listing, newest first with a keyset cursor (created_at, id): per user, and all for the admin.
CREATE INDEX jobs_user ON jobs(user_id, created_at DESC, id DESC);
CREATE INDEX jobs_created ON jobs(created_at DESC, id DESC);
-- The runner's and the sweeper's questions: what is due, whose lease ran out, what finished long ago.
CREATE INDEX jobs_due ON jobs(state, run_after);
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;

-- A document being built points at the job building it (its JSON's `job.id`).
ALTER TABLE documents ADD COLUMN job_id TEXT;
-- Cleanup asks, for each object in R2, whether a document still points at it.
CREATE INDEX documents_r2_key ON documents(r2_key) WHERE r2_key IS NOT NULL;

-- Cleanup's other questions, each answered from an index so a run never scans a whole table:
-- expired sessions, spent upload grants, stale pending uploads, expired stream records.
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE INDEX used_grants_expires ON used_grants(expires_at);
CREATE INDEX files_pending ON files(created_at) WHERE state = 'pending';
CREATE INDEX streams_expires ON streams(expires_at);

-- Vectorize vectors whose document or generation is gone, kept until a delete has succeeded:
-- the ids are "{doc_uid}:{generation}:{0..count-1}". Written in the same D1 transaction that drops
-- the document, so a failed (or never attempted) Vectorize delete is retried by cleanup.
CREATE TABLE vector_tombstones (
  doc_uid    TEXT NOT NULL,
  generation INTEGER NOT NULL,
  count      INTEGER NOT NULL,
  user_id    TEXT NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (doc_uid, generation)
);

-- Small named values maintenance keeps between runs (the R2 orphan scan's list cursor).
CREATE TABLE maintenance_state (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
