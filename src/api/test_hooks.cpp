// Routes that exist only when EDGECHAT_TEST_HOOKS=1 (set by the integration tests, never in
// wrangler.toml): they let tests prove failure handling that no real request can trigger.
#include "api/routes.hpp"
#include "bindings/http_fetch.hpp"
#include "bindings/kv.hpp"
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
// it from the failed write and records how far it got in KV (key from ?mark=), as a chat handler
// would store a partial answer.
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
    bool saved = co_await kv_put(call.ctx, "test:stream:" + *mark, std::to_string(i), 0);
    (void)saved;
  }
  Response done = sse_head();
  co_return done;
}

// Relays an upstream SSE stream (body {url}) event by event: the path a provider's streamed answer
// takes (fetch_start → fetch_read → SseDecoder → write_stream), with the upstream aborted as soon
// as the client leaves.
Task<Result<Response>> relay(Call& call) {
  ProviderHttpRequest req{"GET", string_or(call.body, "url", ""), {}, ""};
  Result<UpstreamResponse> up = co_await fetch_start(call.ctx, req, 5000);
  if (!up.ok()) co_return up.take_error();
  if (up.value().status != 200) {
    co_return api_error(502, "upstream.bad_status", "The upstream answered with an error");
  }
  Status opened = co_await open_stream(call.ctx, sse_head());
  if (!opened.ok()) co_return opened.take_error();
  SseDecoder decoder;
  for (;;) {
    Result<std::string> bytes = co_await fetch_read(call.ctx, up.value().stream);
    if (!bytes.ok() || bytes.value().empty()) break;
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

}  // namespace

bool add_test_hooks(HttpApp& app) {
  return app.add({Method::Post, "/__test/trap", trap}) &&
         app.add({Method::Get, "/__test/stream", stream}) &&
         app.add({Method::Post, "/__test/relay", relay, BodyKind::kJson});
}

}  // namespace ec
