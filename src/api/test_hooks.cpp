// Routes that exist only when EDGECHAT_TEST_HOOKS=1 (set by the integration tests, never in
// wrangler.toml): they let tests prove failure handling that no real request can trigger.
#include "api/routes.hpp"
#include "bindings/kv.hpp"
#include "http/stream.hpp"

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

}  // namespace

bool add_test_hooks(HttpApp& app) {
  return app.add({Method::Post, "/__test/trap", trap}) &&
         app.add({Method::Get, "/__test/stream", stream});
}

}  // namespace ec
