// One Worker holding both implementations: edgechat's handle() (js-shim/worker.js + the core) and
// the Hono reference's app.fetch. /?w=e|r&n=N&p=PATH runs N requests to PATH back to back through
// one of them, inside one isolate, against the same local D1 — no HTTP server, no load generator.
import wasmModule from "../../js-shim/core.wasm";
import { getCore } from "../../js-shim/core.js";
import { handle } from "../../js-shim/worker.js";
import reference from "../reference/src/index.js";

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? 1);
    const edgechat = url.searchParams.get("w") === "e";
    const target = `http://bench${url.searchParams.get("p") ?? "/health"}`;
    const headers = { authorization: request.headers.get("x-bearer") ?? "" };
    let status = 0;
    for (let i = 0; i < n; i++) {
      const req = new Request(target, { headers });
      const res = edgechat ? await handle(req, env, getCore(wasmModule, env)) : await reference.fetch(req, env, ctx);
      status = res.status;
      await res.arrayBuffer();
    }
    return new Response(String(status));
  },
};
