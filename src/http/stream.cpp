#include "http/stream.hpp"

#include "core/header_check.hpp"
#include "core/json.hpp"

namespace ec {

Effect open_stream_effect(Ctx& ctx, Response head) {
  if (ctx.decorate_response) ctx.decorate_response(head);
  // A stream head never reaches a response frame, so it passes the same check here; the shim
  // prints `log` (when there is one) like a log.write line.
  std::vector<std::string> dropped = drop_invalid_headers(head.headers);
  json headers = json::array();
  for (const auto& [k, v] : head.headers) headers.push_back(json::array({k, v}));
  json args = {{"status", head.status}, {"headers", std::move(headers)}};
  if (!dropped.empty()) {
    std::string log = dump_json({{"msg", "stream head"}, {"requestId", ctx.request_id}});
    note_dropped_headers(log, dropped);
    args["log"] = std::move(log);
  }
  return make_effect("stream.open", args);
}

Task<Status> open_stream(Ctx& ctx, Response head) {
  EffectResult r = co_await ctx.perform(open_stream_effect(ctx, std::move(head)));
  if (!r.ok()) co_return api_error(Err::http_stream_unavailable);
  co_return ok_status();
}

Task<Status> write_stream(Ctx& ctx, std::string bytes) {
  EffectResult r = co_await ctx.perform(Effect{"stream.write", std::move(bytes)});
  if (!r.ok()) co_return api_error(Err::http_client_gone);
  co_return ok_status();
}

Response sse_head(int status) {
  Response r;
  r.status = status;
  r.headers = {{"content-type", "text/event-stream; charset=utf-8"},
               {"cache-control", "no-cache, no-transform"},
               {"content-encoding", "identity"},
               {"x-accel-buffering", "no"}};
  return r;
}

}  // namespace ec
