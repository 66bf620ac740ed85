// Resumable streams (seed 004): every chat generation is one (its id is in the `start` event),
// and clients may create their own and append events to them.
//   POST   /api/v1/streams              {ttlSeconds?} → 201 {stream}
//   GET    /api/v1/streams/:id          SSE: replays the events after Last-Event-ID (header, or
//                                       ?lastEventId=) and follows live ones until it closes
//   POST   /api/v1/streams/:id/append   {event?, data} or {events: [{event?, data}]} → {length}
//   DELETE /api/v1/streams/:id          closes it: followers get the end of the stream
// The events live in a Durable Object (js-shim/stream-log.js); D1 holds whose stream it is.
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "bindings/d1.hpp"
#include "bindings/stream_log.hpp"
#include "core/time.hpp"
#include "crypto/random_id.hpp"
#include "http/stream.hpp"
#include "providers/sse.hpp"

#include <charconv>

namespace ec {

namespace {

constexpr int64_t kDefaultTtlS = 24 * 3600;
constexpr size_t kMaxAppendEvents = 100;
constexpr size_t kMaxEventDataBytes = 64 * 1024;

struct StreamRow {
  std::string id;
  std::string kind;
  std::string chat_id;
  std::string message_id;
  std::string state;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
};

json stream_json(const StreamRow& s) {
  return {{"id", s.id},
          {"kind", s.kind},
          {"chatId", s.chat_id.empty() ? json(nullptr) : json(s.chat_id)},
          {"messageId", s.message_id.empty() ? json(nullptr) : json(s.message_id)},
          {"state", s.state},
          {"url", "/api/v1/streams/" + s.id},
          {"createdAt", iso8601_ms(s.created_ms)},
          {"expiresAt", iso8601_ms(s.expires_ms)}};
}

const Schema kCreateStreamSchema = {
    field("ttlSeconds")
        .integer()
        .length(60, 7 * 24 * 3600)
        .nullable()
        .describe("How long the stream lives (default a day)"),
};

const Schema kFollowQuery = {
    field("lastEventId")
        .integer()
        .length(0, 1'000'000)
        .describe("Resume after this event (for clients that cannot send Last-Event-ID)"),
};

// One event ({event?, data}) or a batch ({events: [{event?, data}]}); client_event checks each.
const Schema kAppendSchema = {
    field("event").string().length(1, 64).describe("The SSE event name (default message)"),
    field("data").describe("A string, or any JSON value (sent as its JSON text)"),
    field("events").array().length(1, static_cast<int64_t>(kMaxAppendEvents)),
};

std::string log_name(std::string_view id) { return "s:" + std::string(id); }

Task<Result<StreamRow>> owned_stream(Call& call, const User& u) {
  Result<json> row = co_await d1_first(
      call.ctx, Stmt{"SELECT id, kind, chat_id, message_id, state, created_at, expires_at FROM "
                     "streams WHERE id = ? AND user_id = ?",
                     {*call.param("id"), u.id}});
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return api_error(Err::stream_not_found);
  const json& r = row.value();
  StreamRow s;
  s.id = string_or(r, "id", "");
  s.kind = string_or(r, "kind", "");
  s.chat_id = string_or(r, "chat_id", "");
  s.message_id = string_or(r, "message_id", "");
  s.state = string_or(r, "state", "");
  s.created_ms = get_int(r, "created_at").value_or(0);
  s.expires_ms = get_int(r, "expires_at").value_or(0);
  if (static_cast<double>(s.expires_ms) <= call.ctx.now_ms()) {
    co_return api_error(Err::stream_expired);
  }
  co_return s;
}

Task<Result<Response>> do_create(Call& call) {
  const User& user = signed_in(call);
  int64_t ttl_s = kDefaultTtlS;
  if (std::optional<int64_t> v = get_int(call.body, "ttlSeconds")) ttl_s = *v;
  StreamRow s;
  s.id = co_await new_id(call.ctx, "str_");
  s.kind = "client";
  s.state = "open";
  s.created_ms = static_cast<int64_t>(call.ctx.now_ms());
  s.expires_ms = s.created_ms + ttl_s * 1000;
  Result<StreamLogState> created =
      co_await streamlog_create(call.ctx, log_name(s.id), ttl_s * 1000);
  if (!created.ok()) co_return created.take_error();
  Result<RunMeta> ins = co_await d1_run(
      call.ctx, Stmt{"INSERT INTO streams (id, user_id, kind, state, created_at, updated_at, "
                     "expires_at) VALUES (?, ?, 'client', 'open', ?, ?, ?)",
                     {s.id, user.id, s.created_ms, s.created_ms, s.expires_ms}});
  if (!ins.ok()) co_return ins.take_error();
  Response r = json_reply(201, {{"stream", stream_json(s)}});
  r.headers.emplace_back("location", "/api/v1/streams/" + s.id);
  co_return r;
}

Task<Result<Response>> do_follow(Call& call) {
  const User& user = signed_in(call);
  Result<StreamRow> s = co_await owned_stream(call, user);
  if (!s.ok()) co_return s.take_error();
  // Last-Event-ID (what EventSource sends on reconnect), or ?lastEventId= for fetch clients
  // (checked by kFollowQuery).
  int64_t after = call.query_int("lastEventId", 0);
  const std::string* last = call.ctx.request().header("last-event-id");
  if (last != nullptr && !last->empty()) {
    auto [p, ec] = std::from_chars(last->data(), last->data() + last->size(), after);
    if (ec != std::errc() || p != last->data() + last->size() || after < 0 || after > 1'000'000) {
      co_return field_error("lastEventId", "the id of the last event received (an integer)");
    }
  }
  Response r = sse_head();
  r.log_follow = Response::LogFollow{log_name(s.value().id), after};
  co_return r;
}

// {event?, data} → one SSE event chunk with the given id.
Result<std::string> client_event(const json& e, int64_t id) {
  if (!e.is_object()) return field_error("events", "objects with event and data");
  std::string name = string_or(e, "event", "message");
  if (name.empty() || name.size() > 64) return field_error("event", "a name of 1 to 64 characters");
  const json* data = find(e, "data");
  if (data == nullptr) return field_error("data", "required");
  std::string text = data->is_string() ? data->get<std::string>() : dump_json(*data);
  if (text.size() > kMaxEventDataBytes) return field_error("data", "at most 64 KiB per event");
  return sse_event(name, text, std::to_string(id));
}

Task<Result<Response>> do_append(Call& call) {
  const User& user = signed_in(call);
  Result<StreamRow> s = co_await owned_stream(call, user);
  if (!s.ok()) co_return s.take_error();
  if (s.value().kind != "client") {
    co_return api_error(Err::stream_read_only);
  }
  if (s.value().state != "open") co_return api_error(Err::stream_closed);
  std::vector<json> events;
  if (const json* list = get_array(call.body, "events")) {
    for (const json& e : *list) events.push_back(e);
  } else {
    events.push_back(call.body);
  }
  // Ids are positions in the log: read its length, format, append at exactly that position; a
  // concurrent appender makes that a conflict, and then the ids are recomputed.
  for (int attempt = 0; attempt < 5; ++attempt) {
    Result<StreamLogState> info = co_await streamlog_info(call.ctx, log_name(s.value().id));
    if (!info.ok()) co_return info.take_error();
    if (info.value().closed) co_return api_error(Err::stream_closed);
    std::vector<std::string> chunks;
    for (size_t i = 0; i < events.size(); ++i) {
      Result<std::string> c =
          client_event(events[i], info.value().length + static_cast<int64_t>(i) + 1);
      if (!c.ok()) co_return c.take_error();
      chunks.push_back(std::move(c.value()));
    }
    Result<StreamLogAppended> appended = co_await streamlog_append(
        call.ctx, log_name(s.value().id), info.value().length, std::move(chunks));
    if (appended.ok()) {
      co_return json_reply(
          200, {{"length", appended.value().length}, {"followers", appended.value().followers}});
    }
    if (appended.error().is(Err::streams_closed)) {
      co_return api_error(Err::stream_closed);
    }
    if (!appended.error().is(Err::streams_conflict)) co_return appended.take_error();
  }
  co_return api_error(Err::stream_busy);
}

Task<Result<Response>> do_close(Call& call) {
  const User& user = signed_in(call);
  Result<StreamRow> s = co_await owned_stream(call, user);
  if (!s.ok()) co_return s.take_error();
  Result<int64_t> closed = co_await streamlog_close(call.ctx, log_name(s.value().id));
  if (!closed.ok()) co_return closed.take_error();
  Result<RunMeta> upd = co_await d1_run(
      call.ctx, Stmt{"UPDATE streams SET state = 'closed', updated_at = ? WHERE id = ?",
                     {static_cast<int64_t>(call.ctx.now_ms()), s.value().id}});
  if (!upd.ok()) co_return upd.take_error();
  co_return no_content(204);
}

}  // namespace

bool add_stream_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          post("/api/v1/streams", do_create)
              .user()
              .optional_json(kCreateStreamSchema)
              .doc("Create a resumable stream you can append events to", {"Streams"})
              .answers(201, "StreamEnvelope")
              .errors({"streams.unavailable", "streams.invalid", "storage.unavailable",
                       "storage.conflict"}),
          get("/api/v1/streams/:id", do_follow)
              .user()
              .query(kFollowQuery)
              .owns("stream")
              .doc("Follow a stream (SSE): replays the events after Last-Event-ID, then live ones",
                   {"Streams"})
              .answers(200, "StreamEventData", "text/event-stream")
              .errors({"stream.not_found", "stream.expired", "storage.unavailable"}),
          post("/api/v1/streams/:id/append", do_append)
              .user()
              .json(kAppendSchema)
              .owns("stream")
              .doc("Append one event or a batch to your stream", {"Streams"})
              .answers(200, "StreamAppended")
              .errors({"stream.not_found", "stream.expired", "stream.read_only", "stream.closed",
                       "stream.busy", "streams.not_found", "streams.too_large",
                       "streams.unavailable", "streams.invalid", "storage.unavailable"}),
          del("/api/v1/streams/:id", do_close)
              .user()
              .owns("stream")
              .doc("Close a stream: followers get its end", {"Streams"})
              .answers(204, "")
              .errors({"stream.not_found", "stream.expired", "streams.not_found",
                       "streams.unavailable", "streams.invalid", "storage.unavailable"}),
      });
}

}  // namespace ec
