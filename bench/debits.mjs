// Section 10: credit debits per second through the whole stack on local workerd. Each debit is
// POST /api/v1/billing/usage — the bearer verified, the price looked up, and one D1 batch that
// debits only if the balance covers it and appends the ledger row and usage event. Three runs
// against the same kind of server: edgechat without an Idempotency-Key, edgechat with a fresh key
// on every request (two more D1 round trips: the claim and the kept result), and the reference
// Worker (bench/reference: the same batch written the usual way in Hono, no key, no limiter).
// After the runs the ledger is checked: its rows must sum to the balance, and there must be one
// usage event per 201 — throughput that loses or doubles a debit does not count.
import autocannon from "autocannon";

const BODY = JSON.stringify({ provider: "openai", model: "gpt-4o-mini", tokensIn: 1000, tokensOut: 100 });

function run(url, token, { connections, seconds, idempotent }) {
  return new Promise((resolve, reject) => {
    let n = 0;
    const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
    const lat = [];
    const statuses = {};
    const inst = autocannon({
      url: `${url}/api/v1/billing/usage`, method: "POST", connections, duration: seconds,
      requests: [{
        method: "POST", body: BODY,
        setupRequest: (req) => ({
          ...req, headers: idempotent ? { ...headers, "idempotency-key": `bench-${Date.now()}-${++n}` } : headers,
        }),
      }],
    }, (err, r) => (err ? reject(err) : resolve({ r, lat, statuses })));
    inst.on("response", (_c, status, _b, ms) => {
      lat.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : null;
};
const p99 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(0.99 * s.length))] : null;
};

/**
 * edge/ref: served Workers ({url, sql}), each with a user whose token is `tokens[name]` and a
 * balance large enough for every debit. → {runs: {name: {debitsPerS, medianMs, p99Ms, statuses}},
 * ratio, ledger: {name: {ok, rows, sum, balance, events}}}
 */
export async function benchDebits({ edge, ref, tokens, userIds, quick }) {
  const connections = 10;
  const seconds = quick ? 3 : 8;
  const plan = [
    ["edgechat", edge, false], ["reference", ref, false], ["edgechat+key", edge, true],
    ["reference", ref, false], ["edgechat", edge, false], ["edgechat+key", edge, true],
  ];
  const acc = {};
  const created = { edgechat: 0, reference: 0 };  // every 201, warm-ups included
  for (const [name, server, idempotent] of plan) {
    const who = name.startsWith("edgechat") ? "edgechat" : "reference";
    // Untimed warm-up the first time a configuration runs.
    if (!acc[name]) {
      const warm = await run(server.url, tokens[who], { connections, seconds: 1, idempotent });
      created[who] += warm.statuses[201] ?? 0;
    }
    const { r, lat, statuses } = await run(server.url, tokens[who], { connections, seconds, idempotent });
    created[who] += statuses[201] ?? 0;
    const a = (acc[name] ??= { ok: 0, s: 0, lat: [], statuses: {}, runs: [] });
    a.ok += statuses[201] ?? 0;
    a.s += r.duration;
    a.runs.push(+((statuses[201] ?? 0) / r.duration).toFixed(0));
    for (const x of lat) a.lat.push(x);
    for (const [k, v] of Object.entries(statuses)) a.statuses[k] = (a.statuses[k] ?? 0) + v;
  }
  const runs = {};
  for (const [name, a] of Object.entries(acc)) {
    runs[name] = { debitsPerS: +(a.ok / a.s).toFixed(0), runs: a.runs, medianMs: median(a.lat), p99Ms: p99(a.lat), statuses: a.statuses };
  }
  const ledger = {};
  for (const [name, server] of [["edgechat", edge], ["reference", ref]]) {
    const [row] = await server.sql([{
      sql: "SELECT (SELECT COALESCE(SUM(delta), 0) FROM credit_ledger WHERE user_id = ?1) AS sum, " +
        "(SELECT COUNT(*) FROM credit_ledger WHERE user_id = ?1 AND kind = 'debit') AS debits, " +
        "(SELECT COUNT(*) FROM usage_events WHERE user_id = ?1) AS events, " +
        "(SELECT balance FROM credit_accounts WHERE user_id = ?1) AS balance",
      params: [userIds[name]],
    }]).then((rs) => rs[0]);
    // Besides the setup's probe, the server may have completed up to `connections` debits per run
    // whose answers autocannon dropped when the run's time was up.
    const dropped = row.events - created[name] - 1;
    ledger[name] = {
      ...row, answered201: created[name], unansweredAtRunEnd: dropped,
      consistent: row.sum === row.balance && row.debits === row.events && row.balance >= 0 &&
        dropped >= 0 && dropped <= connections * (plan.length + 3),
    };
  }
  return {
    connections, seconds, runs,
    ratio: +(runs.edgechat.debitsPerS / runs.reference.debitsPerS).toFixed(2),
    ratioWithKey: +(runs["edgechat+key"].debitsPerS / runs.reference.debitsPerS).toFixed(2),
    ledger,
  };
}
