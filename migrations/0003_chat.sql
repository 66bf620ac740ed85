-- edgechat schema v3: chats and messages, votes, resumable generation streams, memory streams and
-- training examples. Times are milliseconds since the Unix epoch.

-- A conversation. Only its owner reads or changes it; a 'public' chat is readable by anyone who
-- has its id. `user_id` is NULL only for anonymous widget chats (seed 001), which are keyed by
-- `widget_id` and never listed through the canonical API.
CREATE TABLE chats (
  id               TEXT PRIMARY KEY,
  user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,
  title            TEXT NOT NULL,
  visibility       TEXT NOT NULL DEFAULT 'private',  -- private | public
  origin           TEXT NOT NULL DEFAULT 'api',      -- api | seed000 | widget
  widget_id        TEXT,
  memory_stream_id TEXT,                             -- the memory stream last used with it
  message_count    INTEGER NOT NULL DEFAULT 0,
  next_seq         INTEGER NOT NULL DEFAULT 1,       -- seq of the next message (never reused)
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
-- Listing is newest-activity first with a keyset cursor (updated_at, id).
CREATE INDEX chats_user_updated ON chats(user_id, updated_at DESC, id DESC);
CREATE INDEX chats_widget ON chats(widget_id, updated_at DESC) WHERE widget_id IS NOT NULL;

-- A message. `seq` orders a chat's messages; an edit drops every message after the edited one.
-- An assistant message records who answered (provider, model), what it cited (`sources`, a JSON
-- array as sent in the stream's `sources` event), its token counts and how it ended:
-- complete | partial (the client left, or the provider failed after the first token) | error.
CREATE TABLE messages (
  id          TEXT PRIMARY KEY,
  chat_id     TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  role        TEXT NOT NULL,                 -- user | assistant
  content     TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'complete',
  provider    TEXT,
  model       TEXT,
  sources     TEXT,                          -- JSON array, assistant messages
  citations   TEXT,                          -- JSON array of the [n] the answer used
  tokens_in   INTEGER,
  tokens_out  INTEGER,
  latency_ms  INTEGER,
  error       TEXT,                          -- error code when status is partial or error
  reply_to    TEXT,                          -- the user message an answer replies to
  stream_id   TEXT,                          -- the resumable stream it was generated on
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (chat_id, seq)
);

-- One vote per user per message, changeable: value is 1 (up) or -1 (down).
CREATE TABLE message_votes (
  message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  value      INTEGER NOT NULL CHECK (value IN (-1, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, user_id)
);

-- Resumable streams: the events themselves live in a Durable Object (exact, ordered, followed
-- live); this row says whose stream it is and what it belongs to.
CREATE TABLE streams (
  id          TEXT PRIMARY KEY,
  user_id     TEXT REFERENCES users(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL,                 -- generation | client
  chat_id     TEXT,
  message_id  TEXT,
  state       TEXT NOT NULL DEFAULT 'open',  -- open | closed
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
);
CREATE INDEX streams_user ON streams(user_id, created_at);

-- Memory streams (seeds 000/002): an agent's goal and its frames, one or more per turn, summarised
-- into the prompt of chats that use the stream.
CREATE TABLE memory_streams (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  stream_id  TEXT NOT NULL,                  -- the client's name for it (seed 002 streamId)
  goal       TEXT,
  status     TEXT NOT NULL DEFAULT 'active', -- active | archived
  frame_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX memory_streams_user_stream ON memory_streams(user_id, stream_id);

CREATE TABLE memory_frames (
  id         TEXT PRIMARY KEY,
  memory_id  TEXT NOT NULL REFERENCES memory_streams(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  role       TEXT NOT NULL,                  -- user | assistant | observation | note
  content    TEXT NOT NULL,
  chat_id    TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (memory_id, seq)
);

-- Training examples (seed 002): recorded turns, exported as OpenAI fine-tuning JSONL.
CREATE TABLE training_examples (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  source     TEXT NOT NULL,                  -- rag_chat | agent_simulation | prompt_lab
  model_used TEXT,
  input      TEXT NOT NULL,                  -- JSON: {messages:[{role, content}]}
  output     TEXT NOT NULL,
  metadata   TEXT NOT NULL DEFAULT '{}',     -- JSON object
  timestamp  INTEGER NOT NULL
);
CREATE INDEX training_examples_user ON training_examples(user_id, timestamp);

-- API keys: long-lived credentials for programmatic clients (the openai SDK against
-- /v1/chat/completions). Only a SHA-256 of the key is kept; the key itself is shown once.
CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,                 -- the first characters, to recognise it in lists
  key_hash     TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the whole key
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  expires_at   INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_keys_user ON api_keys(user_id, created_at);
