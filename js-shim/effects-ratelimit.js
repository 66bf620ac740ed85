// Rate limits (binding RATE_LIMITER, js-shim/rate-limiter.js): one Durable Object per route group
// and caller, addressed by the core's name for it (idFromName). One RPC per request:
//   ratelimit.check {key, limit, periodMs, cost} → {allowed, limit, remaining, resetMs, retryAfterMs}
// Failures, as the core's effect codes (src/limits/rate_limit.cpp fails open on both):
//   unavailable — no binding, or the object could not be reached
//   invalid     — a bad key, or arguments the object refused
//
// EffectError comes from effects.js, which delegates here: the import cycle is safe because
// EffectError is only touched when an op runs, never while the modules load.
import { EffectError } from "./effects.js";

const MAX_KEY = 256;

/** Runs one ratelimit.* effect; `undefined` when `op` is not one of them. Throws EffectError. */
export async function runRateLimitEffect(op, args, env) {
  if (op !== "ratelimit.check") return undefined;
  const ns = env?.RATE_LIMITER;
  if (!ns) throw new EffectError("unavailable", "binding RATE_LIMITER is not configured");
  const key = args?.key;
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY) {
    throw new EffectError("invalid", `rate limit key must be a string of 1..${MAX_KEY} characters`);
  }
  let out;
  try {
    out = await ns.get(ns.idFromName(key)).check(args.limit, args.periodMs, args.cost ?? 1);
  } catch (e) {
    throw new EffectError("unavailable", `ratelimit.check: ${String(e?.message ?? e).slice(0, 300)}`);
  }
  if (out && typeof out.error === "string") {
    throw new EffectError("invalid", `ratelimit.check: ${out.error}: ${out.message}`);
  }
  return { ok: true, data: JSON.stringify(out) };
}
