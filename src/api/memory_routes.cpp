// Memory streams (seeds 000/002): /api/v1/memory/streams*. A stream is addressed by its id or by
// the client's streamId (chat/memory.hpp); another user's stream is 404.
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "chat/memory.hpp"

namespace ec {

namespace {

const Schema kListStreamsQuery = {
    field("limit").integer().length(1, 100).describe("Streams per page (default 20)"),
    field("status").one_of({"active", "archived"}).describe("Only streams in this state"),
    field("cursor").string().describe("nextCursor of the previous page"),
};

const Schema kListFramesQuery = {
    field("limit").integer().length(1, 200).describe("Frames per page (default 50)"),
    field("cursor").string().describe("nextCursor of the previous page"),
};

json cursor_json(const std::string& c) { return c.empty() ? json(nullptr) : json(c); }

Task<Result<Response>> do_create(Call& call) {
  const User& user = signed_in(call);
  Result<MemoryCreate> req = parse_memory_create(call.body);
  if (!req.ok()) co_return req.take_error();
  Result<MemoryStream> s = co_await create_memory_stream(call.ctx, user.id, std::move(req.value()));
  if (!s.ok()) co_return s.take_error();
  Response r = json_reply(201, {{"stream", memory_stream_json(s.value())}});
  r.headers.emplace_back("location", "/api/v1/memory/streams/" + s.value().id);
  co_return r;
}

Task<Result<Response>> do_list(Call& call) {
  const User& user = signed_in(call);
  MemoryQuery q;
  q.limit = static_cast<size_t>(call.query_int("limit", 20));
  if (const std::string* st = call.query_param("status")) q.status = *st;
  if (const std::string* c = call.query_param("cursor")) q.cursor = *c;
  Result<MemoryPage> page = co_await list_memory_streams(call.ctx, user.id, std::move(q));
  if (!page.ok()) co_return page.take_error();
  json items = json::array();
  for (const MemoryStream& s : page.value().items) items.push_back(memory_stream_json(s));
  co_return json_reply(200,
                       {{"streams", items}, {"nextCursor", cursor_json(page.value().next_cursor)}});
}

Task<Result<MemoryStream>> owned_stream(Call& call) {
  const User& user = signed_in(call);
  co_return co_await find_memory_stream(call.ctx, user.id, *call.param("id"));
}

Task<Result<Response>> do_get(Call& call) {
  Result<MemoryStream> s = co_await owned_stream(call);
  if (!s.ok()) co_return s.take_error();
  co_return json_reply(200, {{"stream", memory_stream_json(s.value())}});
}

Task<Result<Response>> do_update(Call& call) {
  Result<MemoryStream> s = co_await owned_stream(call);
  if (!s.ok()) co_return s.take_error();
  Result<MemoryUpdate> u = parse_memory_update(call.body);
  if (!u.ok()) co_return u.take_error();
  Result<MemoryStream> updated =
      co_await update_memory_stream(call.ctx, std::move(s.value()), std::move(u.value()));
  if (!updated.ok()) co_return updated.take_error();
  co_return json_reply(200, {{"stream", memory_stream_json(updated.value())}});
}

Task<Result<Response>> do_delete(Call& call) {
  Result<MemoryStream> s = co_await owned_stream(call);
  if (!s.ok()) co_return s.take_error();
  Status gone = co_await delete_memory_stream(call.ctx, std::move(s.value()));
  if (!gone.ok()) co_return gone.take_error();
  co_return no_content(204);
}

Task<Result<Response>> do_append(Call& call) {
  Result<MemoryStream> s = co_await owned_stream(call);
  if (!s.ok()) co_return s.take_error();
  Result<FrameInput> in = parse_frame_input(call.body);
  if (!in.ok()) co_return in.take_error();
  Result<MemoryFrame> f =
      co_await append_memory_frame(call.ctx, std::move(s.value()), std::move(in.value()));
  if (!f.ok()) co_return f.take_error();
  co_return json_reply(201, {{"frame", memory_frame_json(f.value())}});
}

Task<Result<Response>> do_frames(Call& call) {
  Result<MemoryStream> s = co_await owned_stream(call);
  if (!s.ok()) co_return s.take_error();
  const auto limit = static_cast<size_t>(call.query_int("limit", 50));
  const std::string* c = call.query_param("cursor");
  Result<FramePage> page =
      co_await list_memory_frames(call.ctx, std::move(s.value()), limit, c ? *c : std::string());
  if (!page.ok()) co_return page.take_error();
  json items = json::array();
  for (const MemoryFrame& f : page.value().items) items.push_back(memory_frame_json(f));
  co_return json_reply(200,
                       {{"frames", items}, {"nextCursor", cursor_json(page.value().next_cursor)}});
}

}  // namespace

// Bodies are validated by the memory service's own schemas (chat/memory.cpp), since the seed
// adapters share them.
bool add_memory_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          get("/api/v1/memory/streams", do_list)
              .user()
              .query(kListStreamsQuery)
              .doc("List your memory streams, most recently updated first", {"Memory"})
              .answers(200, "MemoryStreamPage")
              .errors({"storage.unavailable"}),
          post("/api/v1/memory/streams", do_create)
              .user()
              .optional_json()
              .doc("Create a memory stream (optionally under your own streamId)", {"Memory"})
              .answers(201, "MemoryStreamEnvelope")
              .errors({"memory.stream_exists", "storage.unavailable", "storage.value_too_large"}),
          get("/api/v1/memory/streams/:id", do_get)
              .user()
              .owns("memory_stream")
              .doc("Get a memory stream (by id or streamId)", {"Memory"})
              .answers(200, "MemoryStreamEnvelope")
              .errors({"memory.not_found", "storage.unavailable"}),
          patch("/api/v1/memory/streams/:id", do_update)
              .user()
              .json()
              .owns("memory_stream")
              .doc("Change a memory stream's goal or status", {"Memory"})
              .answers(200, "MemoryStreamEnvelope")
              .errors({"memory.not_found", "storage.unavailable", "storage.value_too_large"}),
          del("/api/v1/memory/streams/:id", do_delete)
              .user()
              .owns("memory_stream")
              .doc("Delete a memory stream and its frames", {"Memory"})
              .answers(204, "")
              .errors({"memory.not_found", "storage.unavailable"}),
          get("/api/v1/memory/streams/:id/frames", do_frames)
              .user()
              .query(kListFramesQuery)
              .owns("memory_stream")
              .doc("List a memory stream's frames, oldest first", {"Memory"})
              .answers(200, "MemoryFramePage")
              .errors({"memory.not_found", "storage.unavailable"}),
          post("/api/v1/memory/streams/:id/frames", do_append)
              .user()
              .json()
              .owns("memory_stream")
              .doc("Append a frame to an active memory stream", {"Memory"})
              .answers(201, "MemoryFrameEnvelope")
              .errors({"memory.not_found", "memory.archived", "storage.unavailable",
                       "storage.conflict", "storage.value_too_large"}),
      });
}

}  // namespace ec
