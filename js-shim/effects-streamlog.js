// Resumable stream logs (binding STREAM_LOG, js-shim/stream-log.js): one Durable Object per log,
// addressed by the core's name for it (idFromName). Each op is one RPC call; the object's refusals
// become the core's effect codes (src/bindings/stream_log.hpp reads them):
//   conflict  — append's `from` is not the log's length (another writer got there first)
//   cancelled — append to a closed log (whoever closed it wants the writer to stop)
//   too_large — the log's chunk or byte limit (nothing was stored)
//   not_found — no such log (never created, deleted, or expired); invalid — bad arguments
//   unavailable — no binding, or the object could not be reached (worth a retry)
//
// EffectError comes from effects.js, which delegates here: the import cycle is safe because
// EffectError is only touched when an op runs, never while the modules load.
import { EffectError } from "./effects.js";

const json = (v) => ({ ok: true, data: JSON.stringify(v ?? null) });
const MAX_NAME = 128;

const CODES = Object.freeze({
  conflict: "conflict", closed: "cancelled", too_large: "too_large", not_found: "not_found", invalid: "invalid",
});

/** The named log's stub, or EffectError unavailable/invalid. worker.js follows logs through it. */
export function streamLogStub(env, name) {
  const ns = env?.STREAM_LOG;
  if (!ns) throw new EffectError("unavailable", "binding STREAM_LOG is not configured");
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME) {
    throw new EffectError("invalid", `stream log name must be a string of 1..${MAX_NAME} characters`);
  }
  return ns.get(ns.idFromName(name));
}

// An answer of the object: its result, or its refusal ({error, message}) as an EffectError.
function answer(op, out) {
  if (out && typeof out === "object" && typeof out.error === "string") {
    throw new EffectError(CODES[out.error] ?? "internal", `${op}: ${out.error}: ${out.message}`);
  }
  return json(out);
}

const OPS = {
  "streamlog.create": (stub, args) => stub.create({ ttlMs: args.ttlMs ?? undefined }),
  "streamlog.append": (stub, args) => stub.append(args.from, args.chunks),
  "streamlog.info": (stub) => stub.info(),
  "streamlog.close": (stub) => stub.close(),
  "streamlog.delete": (stub) => stub.destroy(),
};

/** Runs one streamlog.* effect; `undefined` when `op` is not one of them. Throws EffectError. */
export async function runStreamLogEffect(op, args, env) {
  if (!Object.hasOwn(OPS, op)) return undefined;
  const stub = streamLogStub(env, args?.name);
  let out;
  try {
    out = await OPS[op](stub, args);
  } catch (e) {
    // The platform's, not the object's (reset, overloaded, unreachable): worth a retry.
    throw new EffectError("unavailable", `${op}: ${String(e?.message ?? e).slice(0, 300)}`);
  }
  return answer(op, out);
}
