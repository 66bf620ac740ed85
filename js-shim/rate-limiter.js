// RateLimiter: the Durable Object behind rate limits (binding RATE_LIMITER), one per route group
// and caller, named by the core (src/limits/rate_key.hpp). It only serialises and stores: the
// decision is the core's GCRA (src/limits/gcra.hpp), called through the same core module the Worker
// runs (core.js `gcra`; the entry module's subclass sets `wasmModule`). check() reads the state,
// decides and writes it back without an await in between, so concurrent requests for one caller
// are decided one after another and can never both take the last unit of an allowance.
//
// The state (two integers, one SQLite row) is written on every admitted request: an object that is
// evicted or moved resumes its window instead of granting a fresh one, and the output gate holds
// the answer until the write is durable. An alarm drops the row once the caller has left it alone
// for IDLE_MS past the moment its allowance was whole again, so callers who went away leave nothing
// behind; the grace keeps a caller who comes back now and then from paying for a new table and
// alarm every time.
import { DurableObject } from "cloudflare:workers";
import { gcra } from "./core.js";

const FRESH = Object.freeze({ tatUs: 0, tatFrac: 0 });
const IDLE_MS = 10 * 60 * 1000;

export class RateLimiter extends DurableObject {
  static wasmModule = null;  // the core, set by the entry module's subclass

  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.state = FRESH;
    this.stored = this.tableExists();
    if (this.stored) {
      const row = this.sql.exec("SELECT tat_us, tat_frac FROM gcra WHERE id = 1").toArray()[0];
      if (row) this.state = { tatUs: row.tat_us, tatFrac: row.tat_frac };
    }
    this.alarmAt = null; // not known after a restart: the next admitted request sets one again
  }

  tableExists() {
    return this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gcra'").toArray().length > 0;
  }

  /**
   * Counts a request of `cost` against `limit` per `periodMs`.
   * → {allowed, limit, remaining, resetMs, retryAfterMs}, or {error: "invalid", message} when the
   * core refuses the arguments (they must be whole numbers within its bounds).
   */
  check(limit, periodMs, cost = 1) {
    const now = Date.now();
    const d = gcra(this.constructor.wasmModule, this.state, now, Number(periodMs), Number(limit),
      Number(cost));
    if (d.status < 0) {
      return { error: "invalid", message: `bad arguments: limit ${limit}, periodMs ${periodMs}, cost ${cost}` };
    }
    // The core's state moves when a request is admitted (or a stale one was capped); refusals and
    // reads leave it as it was and cost no write.
    if (d.tatUs !== this.state.tatUs || d.tatFrac !== this.state.tatFrac) {
      this.save({ tatUs: d.tatUs, tatFrac: d.tatFrac });
    }
    return {
      allowed: d.status === 1, limit: Number(limit), remaining: d.remaining, resetMs: d.resetMs,
      retryAfterMs: d.retryAfterMs,
    };
  }

  save(state) {
    this.state = state;
    if (!this.stored) {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS gcra (
        id INTEGER PRIMARY KEY CHECK (id = 1), tat_us INTEGER NOT NULL, tat_frac INTEGER NOT NULL)`);
      this.stored = true;
    }
    this.sql.exec(`INSERT INTO gcra (id, tat_us, tat_frac) VALUES (1, ?, ?)
      ON CONFLICT (id) DO UPDATE SET tat_us = excluded.tat_us, tat_frac = excluded.tat_frac`,
    state.tatUs, state.tatFrac);
    if (this.alarmAt === null) this.armAlarm();
  }

  // IDLE_MS after the allowance is whole again (the TAT, in milliseconds).
  armAlarm() {
    this.alarmAt = Math.ceil(this.state.tatUs / 1000) + IDLE_MS;
    this.ctx.storage.setAlarm(this.alarmAt).catch(() => { this.alarmAt = null; });
  }

  async alarm() {
    if (this.state.tatUs / 1000 > Date.now()) {
      // Still in use: look again later.
      this.armAlarm();
      return;
    }
    this.state = FRESH;
    this.alarmAt = null;
    if (this.stored) {
      this.sql.exec("DROP TABLE gcra");
      this.stored = false;
    }
  }
}
