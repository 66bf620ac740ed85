#include "chat/memory.hpp"

#include "bindings/d1.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "crypto/random_id.hpp"
#include "http/page_cursor.hpp"
#include "http/validate.hpp"

#include <algorithm>

namespace ec {

namespace {

constexpr std::string_view kStreamColumns =
    "id, user_id, stream_id, goal, status, frame_count, created_at, updated_at";
constexpr std::string_view kFrameColumns = "id, memory_id, seq, role, content, chat_id, created_at";
constexpr std::string_view kIdCharset = "A-Za-z0-9._:-";
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026 "…"

// The summary reads only a prefix of each frame (characters, as SQLite's substr counts them):
// enough for a ~400-byte line, without pulling up to 32 KiB per frame into a chat turn.
constexpr int64_t kSummaryReadChars = 512;
// A line is at least "- note:" plus its newline, so no more frames than this can ever fit.
constexpr size_t kMinSummaryLineBytes = 8;
constexpr size_t kMaxSummaryFrames = 256;
constexpr size_t kSummaryGoalBytes = 800;

const Schema kCreateSchema = {
    field("streamId").string().nullable().length(1, kMaxStreamIdBytes).charset(kIdCharset),
    field("goal").string().nullable(),
    field("status").string().nullable().one_of({"active", "archived"}),
};

const Schema kUpdateSchema = {
    field("goal").string().nullable(),
    field("status").string().one_of({"active", "archived"}),
};

const Schema kFrameSchema = {
    field("role").string().required().one_of({"user", "assistant", "observation", "note"}),
    field("content").string().required(),
    field("chatId").string().nullable().length(1, kMaxStreamIdBytes).charset(kIdCharset),
};

ApiError not_found() { return api_error(Err::memory_not_found); }
ApiError archived() { return api_error(Err::memory_archived); }

json opt_string(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }
json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

MemoryStream stream_from_row(const json& row) {
  MemoryStream s;
  s.id = string_or(row, "id", "");
  s.user_id = string_or(row, "user_id", "");
  s.stream_id = string_or(row, "stream_id", "");
  if (const std::string* g = get_string(row, "goal")) s.goal = *g;
  s.status = string_or(row, "status", "active");
  s.frame_count = get_int(row, "frame_count").value_or(0);
  s.created_ms = get_int(row, "created_at").value_or(0);
  s.updated_ms = get_int(row, "updated_at").value_or(0);
  return s;
}

MemoryFrame frame_from_row(const json& row) {
  MemoryFrame f;
  f.id = string_or(row, "id", "");
  f.memory_id = string_or(row, "memory_id", "");
  f.seq = get_int(row, "seq").value_or(0);
  f.role = string_or(row, "role", "");
  f.content = string_or(row, "content", "");
  f.chat_id = string_or(row, "chat_id", "");
  f.created_ms = get_int(row, "created_at").value_or(0);
  return f;
}

// A goal is optional: absent, null and "" all mean none.
Result<std::optional<std::string>> parse_goal(const json& body) {
  const std::string* g = get_string(body, "goal");
  if (g == nullptr || g->empty()) return std::optional<std::string>();
  if (g->size() > kMaxGoalBytes) return field_error("goal", "at most 4096 bytes");
  return std::optional<std::string>(*g);
}

// Control characters, Unicode line/paragraph separators and runs of whitespace become one space;
// invalid bytes become U+FFFD (rows written by other tools may hold anything).
std::string single_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = decode_utf8(s, i, cp);
    const bool blank = cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0x2028 || cp == 0x2029;
    if (blank) {
      pending_space = !out.empty();
    } else {
      if (pending_space) out.push_back(' ');
      pending_space = false;
      if (cp == kUtf8Invalid) {
        append_utf8(out, cp);
      } else {
        out.append(s.substr(i, n));
      }
    }
    i += n;
  }
  return out;
}

// At most max_bytes of valid UTF-8 `s`, cut on a code-point boundary and marked with "…".
std::string cut_marked(std::string s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  if (max_bytes < kEllipsis.size()) {
    s.resize(utf8_prefix_bytes(s, max_bytes));
    return s;
  }
  s.resize(utf8_prefix_bytes(s, max_bytes - kEllipsis.size()));
  while (!s.empty() && s.back() == ' ') s.pop_back();
  s.append(kEllipsis);
  return s;
}

std::string frame_line(const MemoryFrame& f) {
  std::string content = cut_marked(single_line(f.content), kSummaryFrameBytes);
  std::string line = "- " + cut_marked(single_line(f.role), 32) + ":";
  if (!content.empty()) line += " " + content;
  return line;
}

std::string clip(std::string s, size_t max_bytes) {
  if (s.size() > max_bytes) s.resize(utf8_prefix_bytes(s, max_bytes));
  return s;
}

}  // namespace

json memory_stream_json(const MemoryStream& s) {
  return {{"id", s.id},
          {"streamId", s.stream_id},
          {"goal", opt_string(s.goal)},
          {"status", s.status},
          {"frameCount", s.frame_count},
          {"createdAt", iso8601_ms(s.created_ms)},
          {"updatedAt", iso8601_ms(s.updated_ms)}};
}

json memory_frame_json(const MemoryFrame& f) {
  return {{"id", f.id},
          {"seq", f.seq},
          {"role", f.role},
          {"content", f.content},
          {"chatId", nullable(f.chat_id)},
          {"createdAt", iso8601_ms(f.created_ms)}};
}

Result<MemoryCreate> parse_memory_create(const json& body) {
  Status ok = validate(body, kCreateSchema);
  if (!ok.ok()) return ok.take_error();
  MemoryCreate r;
  if (const std::string* id = get_string(body, "streamId")) {
    // "mem_" is the server's id space: a client name there could shadow another stream's id.
    if (id->rfind("mem_", 0) == 0) return field_error("streamId", "must not start with \"mem_\"");
    r.stream_id = *id;
  }
  Result<std::optional<std::string>> goal = parse_goal(body);
  if (!goal.ok()) return goal.take_error();
  r.goal = std::move(goal.value());
  r.status = string_or(body, "status", "active");
  return r;
}

Result<MemoryUpdate> parse_memory_update(const json& body) {
  // Unknown keys are refused: a misspelt field would otherwise be a silent no-op.
  Status ok = validate(body, kUpdateSchema, /*allow_unknown_fields=*/false);
  if (!ok.ok()) return ok.take_error();
  MemoryUpdate u;
  if (find(body, "goal") != nullptr) {
    Result<std::optional<std::string>> goal = parse_goal(body);
    if (!goal.ok()) return goal.take_error();
    u.set_goal = true;
    u.goal = std::move(goal.value());
  }
  if (const std::string* st = get_string(body, "status")) u.status = *st;
  if (!u.set_goal && !u.status) return field_error("status", "give goal and/or status to change");
  return u;
}

Result<FrameInput> parse_frame_input(const json& body) {
  Status ok = validate(body, kFrameSchema);
  if (!ok.ok()) return ok.take_error();
  FrameInput in;
  in.role = string_or(body, "role", "");
  in.content = string_or(body, "content", "");
  if (in.content.empty()) return field_error("content", "must not be empty");
  if (in.content.size() > kMaxFrameBytes) return field_error("content", "at most 32768 bytes");
  in.chat_id = string_or(body, "chatId", "");
  return in;
}

Task<Result<MemoryStream>> create_memory_stream(Ctx& ctx, std::string user_id, MemoryCreate req) {
  const auto now = static_cast<int64_t>(ctx.now_ms());
  MemoryStream s;
  s.id = co_await new_id(ctx, "mem_");
  s.user_id = user_id;
  s.stream_id = req.stream_id.value_or(s.id);
  s.goal = req.goal;
  s.status = req.status;
  s.created_ms = now;
  s.updated_ms = now;
  Result<RunMeta> ins = co_await d1_run(
      ctx, Stmt("INSERT INTO memory_streams (id, user_id, stream_id, goal, status, frame_count, "
                "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6)",
                {s.id, s.user_id, s.stream_id, opt_string(s.goal), s.status, now}));
  if (!ins.ok()) {
    if (is_conflict(ins.error())) {
      co_return api_error(Err::memory_stream_exists);
    }
    co_return ins.take_error();
  }
  co_return s;
}

Task<Result<MemoryStream>> find_memory_stream(Ctx& ctx, std::string user_id, std::string ref) {
  // Nothing longer than an id or a streamId can name a stream: answer without a query.
  if (ref.empty() || ref.size() > kMaxStreamIdBytes) co_return not_found();
  Result<json> row = co_await d1_first(
      ctx, Stmt("SELECT " + std::string(kStreamColumns) +
                    " FROM memory_streams WHERE user_id = ?1 AND (id = ?2 OR stream_id = ?2) "
                    "ORDER BY id = ?2 DESC LIMIT 1",
                {user_id, ref}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return not_found();
  co_return stream_from_row(row.value());
}

Task<Result<MemoryPage>> list_memory_streams(Ctx& ctx, std::string user_id, MemoryQuery q) {
  json params = json::array({user_id});
  std::string sql =
      "SELECT " + std::string(kStreamColumns) + " FROM memory_streams WHERE user_id = ?1";
  if (!q.cursor.empty()) {
    std::optional<PageCursor> c = decode_page_cursor(q.cursor);
    if (!c) co_return field_error("cursor", "not a cursor from this API");
    params.push_back(c->time_ms);
    params.push_back(c->id);
    sql += " AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))";
  }
  if (!q.status.empty()) {
    params.push_back(q.status);
    sql += " AND status = ?" + std::to_string(params.size());
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(q.limit + 1);
  Result<std::vector<json>> rows = co_await d1_all(ctx, Stmt(sql, params));
  if (!rows.ok()) co_return rows.take_error();
  MemoryPage page;
  for (const json& row : rows.value()) page.items.push_back(stream_from_row(row));
  if (page.items.size() > q.limit) {
    page.items.pop_back();
    page.next_cursor = encode_page_cursor({page.items.back().created_ms, page.items.back().id});
  }
  co_return page;
}

Task<Result<MemoryStream>> update_memory_stream(Ctx& ctx, MemoryStream s, MemoryUpdate u) {
  const auto now = static_cast<int64_t>(ctx.now_ms());
  // Only the given fields are written, so two PATCHes of different fields never undo each other.
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx,
      {Stmt("UPDATE memory_streams SET goal = CASE WHEN ?3 = 1 THEN ?4 ELSE goal END, "
            "status = COALESCE(?5, status), updated_at = ?6 WHERE id = ?1 AND user_id = ?2",
            {s.id, s.user_id, u.set_goal ? 1 : 0, opt_string(u.goal), opt_string(u.status), now}),
       Stmt("SELECT " + std::string(kStreamColumns) + " FROM memory_streams WHERE id = ?1",
            {s.id})});
  if (!r.ok()) co_return r.take_error();
  if (r.value().size() != 2 || r.value()[1].rows.empty()) co_return not_found();
  co_return stream_from_row(r.value()[1].rows.front());
}

Task<Status> delete_memory_stream(Ctx& ctx, MemoryStream s) {
  // Frames are deleted explicitly as well as by the foreign key's cascade, so the result does not
  // depend on the database enforcing foreign keys.
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("DELETE FROM memory_frames WHERE memory_id = ?1", {s.id}),
            Stmt("UPDATE chats SET memory_stream_id = NULL WHERE user_id = ?2 AND "
                 "memory_stream_id = ?1",
                 {s.id, s.user_id}),
            Stmt("DELETE FROM memory_streams WHERE id = ?1 AND user_id = ?2", {s.id, s.user_id})});
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

Task<Result<MemoryFrame>> append_memory_frame(Ctx& ctx, MemoryStream s, FrameInput in) {
  if (s.status != "active") co_return archived();
  const auto now = static_cast<int64_t>(ctx.now_ms());
  MemoryFrame f;
  f.id = co_await new_id(ctx, "mfr_");
  f.memory_id = s.id;
  f.role = std::move(in.role);
  f.content = std::move(in.content);
  f.chat_id = std::move(in.chat_id);
  f.created_ms = now;
  // One transaction: bump the count, insert at the bumped value, read it back. Both writes
  // re-check the status, so a stream archived since it was read takes no frame.
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("UPDATE memory_streams SET frame_count = frame_count + 1, updated_at = ?2 "
                 "WHERE id = ?1 AND status = 'active'",
                 {s.id, now}),
            Stmt("INSERT INTO memory_frames (id, memory_id, seq, role, content, chat_id, "
                 "created_at) SELECT ?2, id, frame_count, ?3, ?4, ?5, ?6 FROM memory_streams "
                 "WHERE id = ?1 AND status = 'active'",
                 {s.id, f.id, f.role, f.content, nullable(f.chat_id), now}),
            Stmt("SELECT seq FROM memory_frames WHERE id = ?1", {f.id})});
  if (!r.ok()) co_return r.take_error();
  if (r.value().size() != 3 || r.value()[2].rows.empty()) {
    Result<MemoryStream> again = co_await find_memory_stream(ctx, s.user_id, s.id);
    if (!again.ok()) co_return again.take_error();
    co_return archived();
  }
  f.seq = get_int(r.value()[2].rows.front(), "seq").value_or(0);
  co_return f;
}

Task<Result<FramePage>> list_memory_frames(Ctx& ctx, MemoryStream s, size_t limit,
                                           std::string cursor) {
  int64_t after = 0;
  if (!cursor.empty()) {
    std::optional<PageCursor> c = decode_page_cursor(cursor);
    if (!c || !c->id.empty() || c->time_ms < 0) {
      co_return field_error("cursor", "not a cursor from this API");
    }
    after = c->time_ms;
  }
  Result<std::vector<json>> rows = co_await d1_all(
      ctx, Stmt("SELECT " + std::string(kFrameColumns) +
                    " FROM memory_frames WHERE memory_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                {s.id, after, static_cast<int64_t>(limit + 1)}));
  if (!rows.ok()) co_return rows.take_error();
  FramePage page;
  for (const json& row : rows.value()) page.items.push_back(frame_from_row(row));
  if (page.items.size() > limit) {
    page.items.pop_back();
    // The frame cursor is the last seq with no id part ("{seq}."), opaque like the others.
    page.next_cursor = encode_page_cursor({page.items.back().seq, ""});
  }
  co_return page;
}

std::string render_memory_summary(std::string_view goal, const std::vector<MemoryFrame>& frames,
                                  size_t max_bytes) {
  std::string out;
  std::string g = single_line(goal);
  if (!g.empty()) out = clip("Goal: " + cut_marked(std::move(g), kSummaryGoalBytes), max_bytes);

  constexpr std::string_view kHeader = "Recent memory:";
  size_t used = out.size() + (out.empty() ? 0 : 1) + kHeader.size();
  std::vector<std::string> kept;  // newest first
  for (auto it = frames.rbegin(); it != frames.rend() && used < max_bytes; ++it) {
    std::string line = frame_line(*it);
    if (used + 1 + line.size() > max_bytes) break;  // whole frames only, newest kept
    used += 1 + line.size();
    kept.push_back(std::move(line));
  }
  if (kept.empty()) return out;
  if (!out.empty()) out.push_back('\n');
  out.append(kHeader);
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    out.push_back('\n');
    out.append(*it);
  }
  return out;
}

Task<Result<MemoryContext>> load_memory_context(Ctx& ctx, std::string user_id,
                                                std::string memory_ref, size_t max_chars) {
  if (memory_ref.empty() || memory_ref.size() > kMaxStreamIdBytes) co_return not_found();
  const size_t want = std::min(kMaxSummaryFrames, max_chars / kMinSummaryLineBytes + 1);
  // One round trip: the stream and its newest frames (by the same ref lookup, so the frames are
  // the stream's whatever the ref was).
  const std::string pick =
      "SELECT id FROM memory_streams WHERE user_id = ?1 AND (id = ?2 OR stream_id = ?2) "
      "ORDER BY id = ?2 DESC LIMIT 1";
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("SELECT " + std::string(kStreamColumns) + " FROM memory_streams WHERE id = (" +
                     pick + ")",
                 {user_id, memory_ref}),
            Stmt("SELECT id, memory_id, seq, role, substr(content, 1, ?3) AS content, "
                 "length(content) AS content_chars, chat_id, created_at FROM memory_frames "
                 "WHERE memory_id = (" +
                     pick + ") ORDER BY seq DESC LIMIT ?4",
                 {user_id, memory_ref, kSummaryReadChars, static_cast<int64_t>(want)})});
  if (!r.ok()) co_return r.take_error();
  if (r.value().size() != 2 || r.value()[0].rows.empty()) co_return not_found();
  MemoryStream s = stream_from_row(r.value()[0].rows.front());
  if (s.status != "active") co_return archived();
  std::vector<MemoryFrame> frames;
  const std::vector<json>& rows = r.value()[1].rows;
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    MemoryFrame f = frame_from_row(*it);
    // Only a prefix was read: mark it cut, as the renderer would have.
    if (get_int(*it, "content_chars").value_or(0) > kSummaryReadChars) f.content += " …";
    frames.push_back(std::move(f));
  }
  MemoryContext out;
  out.id = s.id;
  out.stream_id = s.stream_id;
  out.goal = s.goal.value_or("");
  out.summary = render_memory_summary(out.goal, frames, max_chars);
  co_return out;
}

Task<Status> append_turn_frames(Ctx& ctx, std::string memory_id, std::string chat_id,
                                std::string question, std::string answer) {
  const auto now = static_cast<int64_t>(ctx.now_ms());
  std::string user_frame = co_await new_id(ctx, "mfr_");
  std::string answer_frame = co_await new_id(ctx, "mfr_");
  question = clip(utf8_scrubbed(question), kMaxFrameBytes);
  answer = clip(utf8_scrubbed(answer), kMaxFrameBytes);
  const std::string insert =
      "INSERT INTO memory_frames (id, memory_id, seq, role, content, chat_id, created_at) "
      "SELECT ?2, id, frame_count";
  const std::string rest = ", ?3, ?4, ?5, ?6 FROM memory_streams WHERE id = ?1";
  const json chat = nullable(chat_id);
  // The turn already happened, so it is recorded even if the stream was archived meanwhile.
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("UPDATE memory_streams SET frame_count = frame_count + 2, updated_at = ?2 "
                 "WHERE id = ?1",
                 {memory_id, now}),
            Stmt(insert + " - 1" + rest, {memory_id, user_frame, "user", question, chat, now}),
            Stmt(insert + rest, {memory_id, answer_frame, "assistant", answer, chat, now})});
  if (!r.ok()) co_return r.take_error();
  if (r.value().empty() || r.value()[0].changes == 0) co_return not_found();
  co_return ok_status();
}

}  // namespace ec
