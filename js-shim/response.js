// Turns the core's response frame into a Response. The core checks every header it sends
// (src/core/header_check.hpp), so building the Response should not fail; if it ever does (a header
// or status the platform refuses), the client still gets the JSON error envelope with its request
// id, never the runtime's HTML page with a stack trace and file paths.
import { streamLogStub } from "./effects-streamlog.js";

const JSON_TYPE = "application/json; charset=utf-8";

// The frame's headers are a plain object, or [name, value] pairs when a name repeats.
function headerOf(headers, name) {
  if (!Array.isArray(headers)) return headers?.[name];
  return headers.find(([k]) => k === name)?.[1];
}

function requestIdOf(out) {
  const id = headerOf(out.headers, "x-request-id");
  return typeof id === "string" && /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? id : undefined;
}

// The error body the shim answers itself (the same shape as the core's errors).
export function shimError(out, status, code, message) {
  const requestId = requestIdOf(out);
  return new Response(JSON.stringify({ error: { code, message }, requestId }),
    { status, headers: { "content-type": JSON_TYPE, "cache-control": "no-store",
      ...(requestId ? { "x-request-id": requestId } : {}) } });
}

// A null body for statuses and methods that must not have one. A download's body streams from R2
// (the core checked ownership and set the length headers); an object deleted in between is a 404.
// A resumable stream's body is its log (a Durable Object), replayed after `after` and followed
// until it closes; the core checked ownership and set the SSE headers.
async function buildResponse(out, method, env) {
  const noBody = method === "HEAD" || out.status === 204 || out.status === 304;
  if (out.r2 && !noBody) {
    const obj = await env.BUCKET?.get(out.r2.key, { range: { offset: out.r2.offset, length: out.r2.length } });
    if (!obj) return shimError(out, 404, "files.not_found", "File not found");
    return new Response(obj.body, { status: out.status, headers: out.headers });
  }
  if (out.follow && !noBody) {
    let body;
    try {
      body = await streamLogStub(env, out.follow.name).follow(out.follow.after);
    } catch (e) {
      console.error(JSON.stringify({ level: "error", msg: "stream log unavailable", error: String(e?.message ?? e) }));
      return shimError(out, 503, "streams.unavailable", "Resumable streams are unavailable; try again");
    }
    return new Response(body, { status: out.status, headers: out.headers });
  }
  return new Response(noBody ? null : out.body, { status: out.status, headers: out.headers });
}

export async function toResponse(out, method, env) {
  try {
    return await buildResponse(out, method, env);
  } catch (e) {
    // The platform's message may quote the header; log only its kind, never a value.
    console.error(JSON.stringify({
      level: "error", msg: "response could not be built", requestId: requestIdOf(out),
      status: out.status, error: e?.name ?? "Error",
    }));
    return shimError(out, 500, "runtime.response_invalid",
      "Internal error; the response could not be sent");
  }
}
