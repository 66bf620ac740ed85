-- edgechat schema v2: files in R2, documents, chunks (with a keyword index and, for the local
-- vector store, their vectors), ingest progress and the knowledge graph.
-- Times are milliseconds since the Unix epoch.

-- One row per object in R2 under {user_id}/{id}/{filename}. A presigned upload grant creates a
-- 'pending' row that becomes 'stored' once the bytes have arrived.
CREATE TABLE files (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  r2_key       TEXT NOT NULL UNIQUE,
  filename     TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size         INTEGER NOT NULL DEFAULT 0,
  etag         TEXT,
  route        TEXT NOT NULL,                 -- the route that created it (seed 003: recorded)
  state        TEXT NOT NULL,                 -- pending | stored
  grant_id     TEXT,                          -- presigned upload: the one grant that may fill it
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX files_user ON files(user_id, created_at);

-- A document: its public id (server-made or the client's docId) is unique per user; `uid` is the
-- internal id chunks, vectors and graph rows hang from. Search sees only chunks of the
-- `generation` that was last completed, so a rebuild in progress (`building`) or a failed one is
-- never half-visible.
CREATE TABLE documents (
  uid           TEXT PRIMARY KEY,
  id            TEXT NOT NULL,
  user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title         TEXT NOT NULL,
  metadata      TEXT NOT NULL DEFAULT '{}',   -- JSON object
  source        TEXT NOT NULL,                -- content | file
  file_id       TEXT,
  r2_key        TEXT,                         -- where the source bytes are
  content_type  TEXT,
  format        TEXT,                         -- text | markdown | html | json | csv | pdf
  chars         INTEGER NOT NULL DEFAULT 0,   -- extracted text length, code points
  preview       TEXT,                         -- first ~1000 characters of the extracted text
  state         TEXT NOT NULL,                -- queued | processing | ready | failed
  generation    INTEGER NOT NULL DEFAULT 0,   -- the generation search sees; 0 = none yet
  building      INTEGER,                      -- the generation being built, NULL when idle
  chunk_count   INTEGER NOT NULL DEFAULT 0,   -- chunks of `generation`
  chunks_done   INTEGER NOT NULL DEFAULT 0,   -- progress of `building`
  chunks_total  INTEGER NOT NULL DEFAULT 0,
  chunk_size    INTEGER NOT NULL,
  chunk_overlap INTEGER NOT NULL,
  embed_model   TEXT,                         -- model of the live generation's vectors
  vector_store  TEXT,                         -- local | vectorize
  error_code    TEXT,
  error_message TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  ready_at      INTEGER,
  UNIQUE (user_id, id)
);
CREATE INDEX documents_user ON documents(user_id, created_at);

-- Chunks of every generation of every document. `vid` is the vector's id in either store
-- ("{uid}:{generation}:{idx}"); `vector` holds the int8 vector (base64url) for the local store.
CREATE TABLE chunks (
  id           INTEGER PRIMARY KEY,
  doc_uid      TEXT NOT NULL REFERENCES documents(uid) ON DELETE CASCADE,
  user_id      TEXT NOT NULL,
  generation   INTEGER NOT NULL,
  idx          INTEGER NOT NULL,
  vid          TEXT NOT NULL UNIQUE,
  text         TEXT NOT NULL,
  char_start   INTEGER NOT NULL,
  char_end     INTEGER NOT NULL,
  heading_path TEXT NOT NULL DEFAULT '[]',    -- JSON array of heading titles
  vector       TEXT
);
CREATE INDEX chunks_doc ON chunks(doc_uid, generation, idx);
CREATE INDEX chunks_user ON chunks(user_id);

-- Keyword index over chunk text (external content: the text is stored once, in chunks).
CREATE VIRTUAL TABLE chunks_fts USING fts5(
  text, content = 'chunks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- Bumped whenever a user's searchable vectors change, so a cached local index can be reused
-- until then (src/rag/local_index_cache).
CREATE TABLE vector_versions (
  user_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL
);

-- Knowledge graph (seed 000 steps 6–7), per document generation like the chunks.
CREATE TABLE graph_entities (
  id         INTEGER PRIMARY KEY,
  doc_uid    TEXT NOT NULL REFERENCES documents(uid) ON DELETE CASCADE,
  generation INTEGER NOT NULL,
  user_id    TEXT NOT NULL,
  name     TEXT NOT NULL,
  name_key TEXT NOT NULL,                     -- lower-cased, for lookup
  type     TEXT NOT NULL,
  mentions INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX graph_entities_doc ON graph_entities(doc_uid, generation);
CREATE INDEX graph_entities_user ON graph_entities(user_id, name_key);

CREATE TABLE graph_relations (
  id         INTEGER PRIMARY KEY,
  doc_uid    TEXT NOT NULL REFERENCES documents(uid) ON DELETE CASCADE,
  generation INTEGER NOT NULL,
  user_id    TEXT NOT NULL,
  source   TEXT NOT NULL,
  target   TEXT NOT NULL,
  relation TEXT NOT NULL,
  weight   REAL NOT NULL DEFAULT 1
);
CREATE INDEX graph_relations_doc ON graph_relations(doc_uid, generation);

-- Presigned-upload grants are one-time: a grant id is recorded when used.
CREATE TABLE used_grants (
  grant_id   TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);

-- Secrets the worker generates for itself on first use when none is configured (e.g. the HMAC key
-- of worker-signed URLs when PRESIGN_SECRET is unset). Never returned by any route.
CREATE TABLE generated_secrets (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
