// Section 9: the rate limiter's added latency per request. The same bundle served twice on local
// workerd (bench/serve.mjs): one with limits on — RATE_LIMIT_BENCH_ON, a limit so high that nothing
// is refused, so every request does the whole work: the key from the verified token, the
// ratelimit.check effect, the RateLimiter Durable Object's RPC, the core's GCRA inside it, the
// SQLite write of its state, the headers — and one with RATE_LIMITS=off. Each gets a fresh
// account; then GET /api/v1/auth/me with its token (cached after the warm-up: one D1 query), one
// request at a time, in blocks of `block` alternating on, off, off, on (like section 4's E R R E),
// after an untimed warm-up. Time = the client's fetch() to the end of the body.
export const RATE_LIMIT_BENCH_ON = {
  RATE_LIMITS: JSON.stringify({ default: { anonymous: 1_000_000, user: 1_000_000, periodSeconds: 60 } }),
};
export const RATE_LIMIT_BENCH_OFF = { RATE_LIMITS: "off" };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round = (x, d = 3) => +x.toFixed(d);

async function signUp(url) {
  const username = `bench_rl_${Math.random().toString(36).slice(2, 10)}`;
  const res = await fetch(`${url}/api/v1/auth/register`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: "bench-password-1" }),
  });
  const body = await res.json().catch(() => null);
  if (res.status !== 201 || !body?.accessToken) throw new Error(`${url}: register answered ${res.status}`);
  return body.accessToken;
}

// One timed request; the limiter's headers say whether it ran.
async function timedMe(url, token) {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  return { ms, status: res.status, limited: res.headers.get("x-ratelimit-limit") !== null };
}

/**
 * {on, off}: the two servers' base URLs. → {requests, on: {medianMs, p95Ms}, off: {…},
 * addedMedianMs, addedP95Ms, addedPairedMedianMs, failures}
 */
export async function benchRateLimit({ on, off, quick }) {
  const block = 50;
  const rounds = quick ? 2 : 6;
  const tokens = { on: await signUp(on), off: await signUp(off) };
  const urls = { on, off };
  const samples = { on: [], off: [] };
  const failures = [];
  const check = (name, r) => {
    const wrong = r.status !== 200 || r.limited !== (name === "on");
    if (wrong && failures.length < 5) failures.push({ server: name, status: r.status, limited: r.limited });
    return !wrong;
  };
  for (const name of ["on", "off"]) {
    for (let i = 0; i < 100; i++) check(name, await timedMe(urls[name], tokens[name]));
  }
  for (let r = 0; r < rounds; r++) {
    for (const name of ["on", "off", "off", "on"]) {
      for (let i = 0; i < block; i++) {
        const x = await timedMe(urls[name], tokens[name]);
        if (check(name, x)) samples[name].push(x.ms);
      }
    }
  }
  // Paired: the k-th request of an "on" block against the k-th of the "off" block beside it.
  const paired = [];
  for (let k = 0; k < Math.min(samples.on.length, samples.off.length); k++) paired.push(samples.on[k] - samples.off[k]);
  const stat = (xs) => ({ medianMs: round(median(xs)), p95Ms: round(percentile(xs, 95)), n: xs.length });
  const out = {
    route: "GET /api/v1/auth/me (cached token)", block, rounds,
    on: stat(samples.on), off: stat(samples.off), failures,
  };
  out.addedMedianMs = round(out.on.medianMs - out.off.medianMs);
  out.addedP95Ms = round(out.on.p95Ms - out.off.p95Ms);
  out.addedPairedMedianMs = round(median(paired));
  return out;
}
