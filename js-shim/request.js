// What the shim takes from an incoming Request for the envelope. Shared by worker.js and the
// benchmark so both build envelopes the same way.

// Random bytes per envelope: enough for a request id, ids, salt and tokens without a round trip.
export const ENVELOPE_RANDOM_BYTES = 128;

// CSPRNG output drawn in 16 KiB batches and handed out once each: one getRandomValues call per
// ~128 requests instead of one per request (the call, not the bytes, is what costs).
const randomPool = new Uint8Array(16384);
let randomPos = randomPool.length;
export function freshRandom(n) {
  if (randomPos + n > randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomPos = 0;
  }
  const bytes = randomPool.subarray(randomPos, randomPos + n);
  randomPos += n;
  return bytes;
}

// Path and query straight from the absolute URL (cheaper than new URL(); the runtime has already
// validated and normalised it).
export function splitUrl(url) {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return ["/", ""];
  const q = url.indexOf("?", start);
  return q < 0 ? [url.slice(start), ""] : [url.slice(start, q), url.slice(q + 1)];
}

// The core generates request ids, but it is gone: keep the client's if sane, else make one the
// same shape (32 hex chars) so the failure can still be traced.
