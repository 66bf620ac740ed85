// Memory streams (seeds 000/002): an agent's goal and an append-only log of frames, summarised into
// the prompt of chats that use the stream (migration 0003_chat.sql: memory_streams, memory_frames).
//
// Addressing: a stream is named by its server id ("mem_…") or by the client's streamId (seed 002),
// unique per user; both work wherever a stream is looked up, the server id winning if a client
// ever named a stream after another stream's id (client streamIds may not start with "mem_", so
// that only happens by the default streamId being the id itself). Another user's stream is "not
// found" (404 memory.not_found), indistinguishable from a missing one.
//
// Frames are numbered 1, 2, 3, … per stream: the seq is allocated in the same D1 transaction that
// bumps the stream's frame_count, so concurrent appends never share or skip a number.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

inline constexpr size_t kMaxStreamIdBytes = 128;
inline constexpr size_t kMaxGoalBytes = 4096;
inline constexpr size_t kMaxFrameBytes = 32 * 1024;

struct MemoryStream {
  std::string id;
  std::string user_id;
  std::string stream_id;
  std::optional<std::string> goal;
  std::string status = "active";  // active | archived
  int64_t frame_count = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct MemoryFrame {
  std::string id;
  std::string memory_id;
  int64_t seq = 0;
  std::string role;  // user | assistant | observation | note
  std::string content;
  std::string chat_id;  // the chat turn that wrote it, if any
  int64_t created_ms = 0;
};

// Canonical JSON: {id, streamId, goal|null, status, frameCount, createdAt, updatedAt} and
// {id, seq, role, content, chatId|null, createdAt}; times ISO-8601.
json memory_stream_json(const MemoryStream& s);
json memory_frame_json(const MemoryFrame& f);

// Request bodies, validated field by field (400 validation.failed with `fields`).
struct MemoryCreate {
  std::optional<std::string> stream_id;  // default: the generated id
  std::optional<std::string> goal;
  std::string status = "active";
};
Result<MemoryCreate> parse_memory_create(const json& body);

struct MemoryUpdate {
  bool set_goal = false;
  std::optional<std::string> goal;  // with set_goal: nullopt clears it
  std::optional<std::string> status;
};
Result<MemoryUpdate> parse_memory_update(const json& body);

struct FrameInput {
  std::string role;
  std::string content;
  std::string chat_id;
};
Result<FrameInput> parse_frame_input(const json& body);

// 409 memory.stream_exists when the user already has a stream with that streamId.
Task<Result<MemoryStream>> create_memory_stream(Ctx& ctx, std::string user_id, MemoryCreate req);
// By id or streamId (see the file comment).
Task<Result<MemoryStream>> find_memory_stream(Ctx& ctx, std::string user_id, std::string ref);

struct MemoryQuery {
  size_t limit = 20;   // 1..100
  std::string cursor;  // opaque, from the previous page
  std::string status;  // "", active or archived
};
struct MemoryPage {
  std::vector<MemoryStream> items;
  std::string next_cursor;  // empty on the last page
};
// Newest first (created_at DESC, id DESC).
Task<Result<MemoryPage>> list_memory_streams(Ctx& ctx, std::string user_id, MemoryQuery q);

Task<Result<MemoryStream>> update_memory_stream(Ctx& ctx, MemoryStream s, MemoryUpdate u);
// Frames go with it; chats that used it forget it.
Task<Status> delete_memory_stream(Ctx& ctx, MemoryStream s);

// Appends at the next seq. 409 memory.archived for an archived stream.
Task<Result<MemoryFrame>> append_memory_frame(Ctx& ctx, MemoryStream s, FrameInput in);

struct FramePage {
  std::vector<MemoryFrame> items;
  std::string next_cursor;
};
// In seq order; limit 1..200.
Task<Result<FramePage>> list_memory_frames(Ctx& ctx, MemoryStream s, size_t limit,
                                           std::string cursor);

// --- For the chat service ---------------------------------------------------------------------

inline constexpr size_t kSummaryFrameBytes = 400;  // each frame's line is cut near this size

// Pure: the prompt block for a stream. "Goal: …" (when there is a goal), then "Recent memory:"
// and "- role: content" per frame, oldest first. Frames are given oldest first; the newest are
// kept, whole lines only, and the result is at most max_bytes bytes of valid UTF-8 (no trailing
// newline). Content is put on one line (control characters and runs of whitespace become one
// space) and cut to ~kSummaryFrameBytes on a code-point boundary, marked with "…".
std::string render_memory_summary(std::string_view goal, const std::vector<MemoryFrame>& frames,
                                  size_t max_bytes);

struct MemoryContext {
  std::string id;
  std::string stream_id;
  std::string goal;
  std::string summary;
};
// The stream's goal and its most recent frames rendered into a compact summary for a prompt
// (render_memory_summary, at most max_chars UTF-8 bytes). 404 memory.not_found for a missing or
// another user's stream; 409 memory.archived when archived. memory_ref: id or streamId.
Task<Result<MemoryContext>> load_memory_context(Ctx& ctx, std::string user_id,
                                                std::string memory_ref, size_t max_chars = 2000);

// Appends a user frame and an assistant frame for one chat turn, in one batch (seqs n+1, n+2).
// memory_id is MemoryContext::id (ownership was checked when the context was loaded). Content over
// kMaxFrameBytes is cut on a code-point boundary. 404 memory.not_found if the stream is gone.
Task<Status> append_turn_frames(Ctx& ctx, std::string memory_id, std::string chat_id,
                                std::string question, std::string answer);

}  // namespace ec
