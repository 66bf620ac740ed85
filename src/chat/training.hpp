// Training examples (seed 002): a prompt (chat messages) and the answer a model gave, recorded for
// fine-tuning, and exported as JSONL in OpenAI's chat fine-tuning format
// (migration 0003_chat.sql: training_examples; `input` holds {"messages":[…]}).
//
// Producers: the chat service records rag_chat turns when capture is on (TRAINING_CAPTURE=all, or
// the request's own recordTraining: true); agent simulations and prompt labs POST theirs.
// Every example belongs to a user; another user's example is 404 training.not_found.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

inline constexpr size_t kMaxTrainingMessages = 500;
inline constexpr size_t kMaxTrainingInputBytes = 512 * 1024;   // the messages, as JSON
inline constexpr size_t kMaxTrainingOutputBytes = 128 * 1024;  // the answer
inline constexpr size_t kMaxTrainingMetadataBytes = 16 * 1024;

struct TrainingExample {
  std::string user_id;
  std::string source;  // rag_chat | agent_simulation | prompt_lab
  std::string model_used;
  json messages;  // [{role, content}] the prompt; roles system | user | assistant
  std::string output;
  json metadata = json::object();
};

struct TrainingRecord {
  std::string id;
  std::string user_id;
  std::string source;
  std::string model_used;
  json messages = json::array();
  std::string output;
  json metadata = json::object();
  int64_t created_ms = 0;
};

// {id, source, model|null, messages, output, metadata, createdAt}
json training_example_json(const TrainingRecord& r);

// 400 validation.failed with a message per bad field (source, messages, output, model, metadata).
Status check_training_example(const TrainingExample& ex);
// POST body: {source, messages | input: {messages}, output, model?, metadata?}.
Result<TrainingExample> parse_training_example(const json& body, std::string user_id);

Task<Result<TrainingRecord>> create_training_example(Ctx& ctx, TrainingExample ex);
// For producers that only need to know it was stored (the chat service).
Task<Status> record_training_example(Ctx& ctx, TrainingExample ex);

// TRAINING_CAPTURE env: "off" (default) | "all"; a request's own opt-in (recordTraining: true)
// also records.
bool training_capture_enabled(Ctx& ctx, bool request_opt_in);

Task<Result<TrainingRecord>> find_training_example(Ctx& ctx, std::string user_id, std::string id);
Task<Status> delete_training_example(Ctx& ctx, TrainingRecord r);

// Lists carry summaries, not the (possibly large) prompts and answers: GET one for those.
struct TrainingSummary {
  std::string id;
  std::string source;
  std::string model_used;
  json metadata = json::object();
  int64_t message_count = 0;
  std::string output_preview;  // the answer's first 200 characters
  int64_t created_ms = 0;
};
// {id, source, model|null, metadata, messageCount, outputPreview, createdAt}
json training_summary_json(const TrainingSummary& s);

struct TrainingQuery {
  size_t limit = 20;  // 1..100
  std::string cursor;
  std::string source;  // "" = every source
};
struct TrainingPage {
  std::vector<TrainingSummary> items;
  std::string next_cursor;
};
// Newest first (timestamp DESC, id DESC).
Task<Result<TrainingPage>> list_training_examples(Ctx& ctx, std::string user_id, TrainingQuery q);

// --- Export -----------------------------------------------------------------------------------

// Pure: one JSONL line (no newline) in OpenAI's chat fine-tuning format,
//   {"messages":[…the input's system/user/assistant
//   messages…,{"role":"assistant","content":output}]}
// or nullopt when the example cannot teach anything: empty output, or no usable input message.
std::optional<std::string> training_jsonl_line(const json& messages, std::string_view output);

struct ExportOptions {
  std::string source;  // "" = every source
  std::string cursor;  // from a truncated export's next cursor
  size_t max_examples = 10000;
  size_t max_bytes = size_t{16} << 20;
};
struct TrainingExport {
  std::string body;  // JSONL, oldest example first
  size_t count = 0;
  bool truncated = false;
  std::string next_cursor;  // when truncated: continue from here
};
Task<Result<TrainingExport>> export_training_jsonl(Ctx& ctx, std::string user_id,
                                                   ExportOptions opt);

}  // namespace ec
