// StreamLog: the Durable Object behind resumable chat generations (binding STREAM_LOG, one object
// per stream, named by the core). It is an append-only, ordered log of text chunks — SSE events the
// core has already formatted, each carrying `id: N` where N is its 1-based position here — that can
// be replayed from a position and followed live. It holds no business rule: who may write or read,
// and what a chunk says, are the core's; this object only stores, replays and fans out.
//
// Each follower is a cursor, not a queue: its pump reads the next rows from SQLite only once the
// previous write was taken by the reader, and sleeps when it has caught up until an append, a close
// or the keep-alive wakes it. A slow reader therefore costs one batch of memory however far behind
// it is; its unread chunks stay in storage.
import { DurableObject } from "cloudflare:workers";

const encoder = new TextEncoder();

export const LIMITS = Object.freeze({
  maxChunks: 20_000,
  maxBytes: 8 * 1024 * 1024,
  maxChunkBytes: 1024 * 1024, // a Durable Object's SQLite row holds at most 2 MB
  defaultTtlMs: 24 * 60 * 60 * 1000,
  maxTtlMs: 30 * 24 * 60 * 60 * 1000,
  keepAliveMs: 15_000,
});

// How much one write to a follower carries: enough to replay quickly, small per follower.
const BATCH_ROWS = 256;
const BATCH_CHARS = 64 * 1024;
const KEEP_ALIVE = ": keep-alive\n\n";

// Refusals are answers, not exceptions (a thrown RPC error is logged as the object failing):
// {error, message}, error being one of these. js-shim/effects-streamlog.js maps them to the core's
// effect codes.
export const REFUSALS = Object.freeze(["invalid", "not_found", "closed", "conflict", "too_large"]);
const refuse = (error, message) => ({ error, message });

function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3; // a lone surrogate is sent as U+FFFD
  }
  return n;
}

const isCount = (v) => Number.isSafeInteger(v) && v >= 0;

export class StreamLog extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.followers = new Set();
    this.ensureSchema();
    this.meta = this.readMeta();
  }

  ensureSchema() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
      length INTEGER NOT NULL, bytes INTEGER NOT NULL, closed INTEGER NOT NULL)`);
    this.sql.exec("CREATE TABLE IF NOT EXISTS chunks (pos INTEGER PRIMARY KEY, data TEXT NOT NULL)");
  }

  readMeta() {
    const row = this.sql.exec("SELECT * FROM meta WHERE id = 1").toArray()[0];
    return row ? {
      createdAt: row.created_at, expiresAt: row.expires_at, length: row.length, bytes: row.bytes,
      closed: row.closed === 1,
    } : null;
  }

  /**
   * Creates the log, to be deleted ttlMs (default 24 h) from now. Idempotent: an existing log is
   * left as it is, TTL included. → {created, exists, length, closed, followers, createdAt}
   */
  async create({ ttlMs } = {}) {
    let created = false;
    if (!this.meta) {
      const ttl = ttlMs ?? LIMITS.defaultTtlMs;
      if (!isCount(ttl) || ttl < 1 || ttl > LIMITS.maxTtlMs) {
        return refuse("invalid", `ttlMs must be an integer in [1, ${LIMITS.maxTtlMs}]`);
      }
      const now = Date.now();
      this.sql.exec("INSERT INTO meta (id, created_at, expires_at, length, bytes, closed) VALUES (1, ?, ?, 0, 0, 0)",
        now, now + ttl);
      this.meta = this.readMeta();
      await this.ctx.storage.setAlarm(this.meta.expiresAt);
      created = true;
    }
    return { created, ...this.info() };
  }

  /**
   * Appends chunks (strings) at position `from`, which must be the log's length so two writers
   * cannot interleave, and wakes the followers. → {length, followers, now}, or a refusal:
   * not_found, closed, conflict (with the log's `length`), too_large (nothing is stored), invalid.
   */
  append(from, chunks) {
    const m = this.meta;
    if (!isCount(from)) return refuse("invalid", "from must be a non-negative integer");
    if (!Array.isArray(chunks) || !chunks.every((c) => typeof c === "string")) {
      return refuse("invalid", "chunks must be an array of strings");
    }
    if (!m) return refuse("not_found", "no such stream log");
    if (m.closed) return refuse("closed", `the log was closed at length ${m.length}`);
    if (from !== m.length) {
      return { ...refuse("conflict", `append from ${from}, but the log's length is ${m.length}`), length: m.length };
    }
    let bytes = 0;
    for (const c of chunks) {
      const n = utf8Length(c);
      if (n > LIMITS.maxChunkBytes) return refuse("too_large", `a chunk exceeds ${LIMITS.maxChunkBytes} bytes`);
      bytes += n;
    }
    if (m.length + chunks.length > LIMITS.maxChunks) {
      return refuse("too_large", `the log would exceed ${LIMITS.maxChunks} chunks`);
    }
    if (m.bytes + bytes > LIMITS.maxBytes) return refuse("too_large", `the log would exceed ${LIMITS.maxBytes} bytes`);
    if (chunks.length) {
      this.ctx.storage.transactionSync(() => {
        chunks.forEach((c, i) => this.sql.exec("INSERT INTO chunks (pos, data) VALUES (?, ?)", from + i + 1, c));
        this.sql.exec("UPDATE meta SET length = ?, bytes = ? WHERE id = 1", m.length + chunks.length, m.bytes + bytes);
      });
      m.length += chunks.length;
      m.bytes += bytes;
      for (const f of this.followers) f.wake();
    }
    return { length: m.length, followers: this.followers.size, now: Date.now() };
  }

  /** → {exists, length, closed, followers, createdAt}; a missing log is {exists: false, ...}. */
  info() {
    const m = this.meta;
    return {
      exists: m !== null, length: m?.length ?? 0, closed: m?.closed ?? false,
      followers: this.followers.size, createdAt: m?.createdAt ?? null,
    };
  }

  /** Marks the log closed: followers get what remains, then their streams end. Idempotent. */
  close() {
    const m = this.meta;
    if (!m) return refuse("not_found", "no such stream log");
    if (!m.closed) {
      this.sql.exec("UPDATE meta SET closed = 1 WHERE id = 1");
      m.closed = true;
      for (const f of this.followers) f.wake();
    }
    return { length: m.length };
  }

  /** Deletes the log and everything in it; followers' streams end. Idempotent. → true */
  async destroy() {
    this.meta = null;
    for (const f of [...this.followers]) f.end();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.ensureSchema();
    return true;
  }

  // The only alarm ever set is the log's expiry (createdAt + ttlMs).
  async alarm() {
    await this.destroy();
  }

  /**
   * A byte stream (UTF-8) of every chunk after position `after`, then of each chunk appended
   * later; it ends once the log is closed (or missing) and fully sent. While there is nothing to
   * send, an SSE comment keeps the connection alive. `keepAliveMs` is for tests.
   *
   * The stream is a native IdentityTransformStream on purpose: when the reader goes away (the
   * client disconnected, and the cancel crossed RPC), a later write fails and the follower is
   * dropped — measured in workerd: the first write after a cancel is still accepted by the RPC
   * pipe, the second fails, so at most two keep-alives (~30 s) later. A JS ReadableStream's
   * cancel() is never called across RPC, so such a follower would stay forever.
   */
  follow(after = 0, { keepAliveMs = LIMITS.keepAliveMs } = {}) {
    if (!isCount(after)) throw new RangeError("after must be a non-negative integer");
    if (!(Number.isFinite(keepAliveMs) && keepAliveMs >= 10)) throw new RangeError("keepAliveMs must be ≥ 10");
    const { readable, writable } = new IdentityTransformStream();
    const f = new Follower(writable.getWriter(), after + 1, this.followers);
    this.followers.add(f);
    this.pump(f, keepAliveMs);
    return readable;
  }

  async pump(f, keepAliveMs) {
    try {
      while (!f.done) {
        const batch = this.readFrom(f.next);
        if (batch) {
          f.next = batch.next;
          await f.writer.write(encoder.encode(batch.text));
        } else if (!this.meta || this.meta.closed) {
          break;
        } else if (!(await f.sleep(keepAliveMs)) && !f.done) {
          await f.writer.write(encoder.encode(KEEP_ALIVE));
        }
      }
      f.end();
      await f.writer.close();
    } catch {
      // The reader went away.
      f.end();
      f.writer.abort().catch(() => {});
    }
  }

  // The chunks from position `next` on, up to one batch, joined; null when there are none yet.
  readFrom(next) {
    if (!this.meta || next > this.meta.length) return null;
    const cursor = this.sql.exec("SELECT pos, data FROM chunks WHERE pos >= ? ORDER BY pos LIMIT ?", next, BATCH_ROWS);
    let text = "";
    let last = next - 1;
    for (const row of cursor) {
      text += row.data;
      last = row.pos;
      if (text.length >= BATCH_CHARS) break;
    }
    return last < next ? null : { text, next: last + 1 };
  }
}

// One reader of the log: its cursor (`next`, the next position to send), its writer, and the
// wake-up of its pump while it sleeps.
class Follower {
  constructor(writer, next, set) {
    this.writer = writer;
    this.next = next;
    this.set = set;
    this.done = false;
    this.resolve = null;
    this.timer = null;
  }

  // Resolves true when woken (append, close, end), false when keepAliveMs passed first.
  sleep(ms) {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => {
        this.resolve = null;
        resolve(false);
      }, ms);
    });
  }

  wake() {
    clearTimeout(this.timer);
    const resolve = this.resolve;
    this.resolve = null;
    resolve?.(true);
  }

  end() {
    this.done = true;
    this.set.delete(this);
    this.wake();
  }
}
