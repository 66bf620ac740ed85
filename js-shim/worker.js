// The Worker entry: hands each request to the C++ core and carries out the effects it yields until
// it answers. See DESIGN.md §1; this file holds no business rules.
import wasmModule from "./core.wasm";
import { getCore, CoreTrap } from "./core.js";
import { performEffect } from "./effects.js";
import { FRAME_EFFECTS } from "./frame.js";
import { ENVELOPE_RANDOM_BYTES, freshRandom, splitUrl } from "./request.js";

function trapRequestId(request) {
  const id = request.headers.get("x-request-id");
  return id && /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? id
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function trapResponse(requestId) {
  const body = JSON.stringify({
    error: { code: "runtime.trap", message: "Internal error; the request was not completed" },
    requestId,
  });
  return new Response(body, {
    status: 500,
    headers: {
      "content-type": "application/json; charset=utf-8", "cache-control": "no-store",
      "x-request-id": requestId,
    },
  });
}

// A null body for statuses and methods that must not have one.
function toResponse(out, method) {
  const noBody = method === "HEAD" || out.status === 204 || out.status === 304;
  return new Response(noBody ? null : out.body, { status: out.status, headers: out.headers });
}

export async function handle(request, env, core) {
  const [path, query] = splitUrl(request.url);
  let session = 0;
  try {
    let out = core.start(Date.now(), freshRandom(ENVELOPE_RANDOM_BYTES), request.method, path,
      query, core.pickHeaders(request.headers));
    while (out.kind === FRAME_EFFECTS) {
      session = out.session;
      const results = await Promise.all(out.effects.map((e) => performEffect(e, request, env)));
      if (request.signal?.aborted) {
        // The client went away: drop the request's coroutines; nobody is listening for the answer.
        core.cancel(session);
        console.log(JSON.stringify({ level: "info", msg: "request cancelled by client", session }));
        return new Response(null, { status: 499 });
      }
      out = core.resume(session, Date.now(), results);
    }
    if (out.log) console.log(out.log);
    return toResponse(out, request.method);
  } catch (e) {
    if (!(e instanceof CoreTrap)) throw e;
    const requestId = trapRequestId(request);
    console.error(JSON.stringify({
      level: "error", msg: "core trapped; instance reset", requestId, session,
      error: String(e.cause?.message ?? e.cause),
    }));
    return trapResponse(requestId);
  }
}

export default {
  async fetch(request, env) {
    return handle(request, env, getCore(wasmModule, env));
  },
};
