// Routes that exist only when EDGECHAT_TEST_HOOKS=1 (set by the integration tests, never in
// wrangler.toml): they let tests prove failure handling that no real request can trigger. Only test
// builds link this file (the native tests, js-shim/core-test.wasm); the shipped core.wasm links
// no_test_hooks.cpp instead (CMakeLists.txt).
#include "core/test_hooks.hpp"
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "bindings/ai.hpp"
#include "bindings/http_fetch.hpp"
#include "bindings/r2.hpp"
#include "http/stream.hpp"
#include "providers/sse.hpp"

#include <charconv>

namespace ec {

namespace {

// A Wasm trap (`unreachable`): the shim must answer 500, drop the instance, and serve the next
// request from a fresh one.
Task<Result<Response>> trap(Call&) {
  __builtin_trap();
  co_return json_reply(500, nullptr);
}

// A streamed response: ?n= SSE events, one write each. When the client leaves, the handler learns
// it from the failed write and records how far it got in R2 (key test/stream/{?mark=}), as a chat
// handler would store a partial answer.
Task<Result<Response>> stream(Call& call) {
  int n = 3;
  if (const std::string* v = call.query_param("n"))
    std::from_chars(v->data(), v->data() + v->size(), n);
  Status opened = co_await open_stream(call.ctx, sse_head());
  if (!opened.ok()) co_return opened.take_error();
  int i = 0;
  for (; i < n; ++i) {
    std::string event =
        "id: " + std::to_string(i) + "\nevent: delta\ndata: {\"i\":" + std::to_string(i) + "}\n\n";
    // Large events make the stream apply backpressure quickly once nobody reads.
    if (n > 100) event += ": " + std::string(4096, 'x') + "\n\n";
    Status wrote = co_await write_stream(call.ctx, std::move(event));
    if (!wrote.ok()) break;
  }
  if (const std::string* mark = call.query_param("mark")) {
    Result<R2Object> saved =
        co_await r2_put(call.ctx, "test/stream/" + *mark, std::to_string(i), {});
    (void)saved;
  }
  Response done = sse_head();
  co_return done;
}

// The upstream a relay reads: HTTP (body {url, method?, headers?, body?}, so a fake provider can be
// called with its real request shape) or a streamed Workers AI run (body {ai: {model, input}}).
Task<Result<UpstreamResponse>> start_upstream(Ctx& ctx, json spec) {
  if (const json* ai = get_object(spec, "ai")) {
    const json* input = get_object(*ai, "input");
    co_return co_await ai_stream(ctx, string_or(*ai, "model", ""),
                                 input != nullptr ? *input : json::object());
  }
  FetchRequest req{string_or(spec, "method", "GET"), string_or(spec, "url", ""), {}, ""};
  if (const json* headers = get_object(spec, "headers")) {
    for (const auto& [name, value] : headers->items()) {
      if (value.is_string()) req.headers.emplace_back(name, value.get_ref<const std::string&>());
    }
  }
  if (const json* body = find(spec, "body"); body != nullptr && !body->is_null()) {
    req.body = body->is_string() ? body->get_ref<const std::string&>() : dump_json(*body);
  }
  co_return co_await fetch_start(ctx, std::move(req), 5000);
}

// Relays an upstream SSE stream event by event: the path a provider's streamed answer takes
// (fetch_start or ai_stream → fetch_read → SseDecoder → write_stream), with the upstream aborted as
// soon as the client leaves. A non-200 upstream is a 502 carrying the upstream's status.
Task<Result<Response>> relay(Call& call) {
  Result<UpstreamResponse> up = co_await start_upstream(call.ctx, call.body);
  if (!up.ok()) co_return up.take_error();
  if (up.value().status != 200) {
    Status aborted = co_await fetch_abort(call.ctx, up.value().stream);
    (void)aborted;
    co_return api_error(Err::upstream_bad_status,
                        "The upstream answered " + std::to_string(up.value().status));
  }
  Status opened = co_await open_stream(call.ctx, sse_head());
  if (!opened.ok()) co_return opened.take_error();
  SseDecoder decoder;
  for (;;) {
    Result<std::string> bytes = co_await fetch_read(call.ctx, up.value().stream);
    if (!bytes.ok()) {
      // The upstream broke off mid-stream (a dropped connection, a failed model): say so.
      json err = {{"code", bytes.error().code}};
      Status wrote = co_await write_stream(call.ctx, sse_event("error", dump_json(err)));
      (void)wrote;
      co_return sse_head();
    }
    if (bytes.value().empty()) break;
    decoder.feed(bytes.value());
    bool gone = false;
    for (const SseEvent& e : decoder.take()) {
      Status wrote = co_await write_stream(call.ctx, sse_event("delta", e.data));
      if (!wrote.ok()) gone = true;
      if (gone) break;
    }
    if (gone) {
      Status aborted = co_await fetch_abort(call.ctx, up.value().stream);
      (void)aborted;
      co_return sse_head();
    }
  }
  Status done = co_await write_stream(call.ctx, sse_event("done", "{}"));
  (void)done;
  co_return sse_head();
}

// An ordinary route in a rate-limit group of its own ("test"), which the integration tests give a
// low limit in RATE_LIMITS without throttling the real groups: the path through the pipeline, the
// ratelimit.check effect, the Durable Object and the core's GCRA is production's.
Task<Result<Response>> limited(Call&) { co_return json_reply(200, {{"ok", true}}); }

}  // namespace

bool test_hooks_built() { return true; }

bool add_test_hooks(HttpApp& app) {
  return add_routes(app, {
                             get("/__test/limited", limited).anyone().rate("test"),
                             post("/__test/trap", trap).anyone(),
                             get("/__test/stream", stream).anyone(),
                             post("/__test/relay", relay).anyone().json(),
                         });
}

}  // namespace ec
