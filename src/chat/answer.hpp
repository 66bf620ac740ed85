// The answer service: one generation from question to stored message, shared by every chat route
// (canonical, seeds, OpenAI-compatible). Retrieval → prompt → provider (with fallback before the
// first token) → the client's stream (and the resumable log) → the stored message, usage log line
// and trace.
//
// Streaming is pipelined: each round of effects writes the events made from the previous upstream
// read (to the client and, in parallel, to the stream's Durable Object log) together with the next
// upstream read, so neither the client nor the log ever waits on the other.
//
// When the client goes away, a resumable generation keeps running while someone follows its log,
// or for RESUME_GRACE_MS (default 10 s) after the disconnect so a client can reconnect; otherwise
// (and always for non-resumable streams) the upstream call is cancelled at once. Either way the
// message is stored with what was generated, marked partial.
#pragma once

#include "chat/prompt.hpp"
#include "chat/provider_stream.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>
#include <vector>

namespace ec {

enum class AnswerFormat {
  kEvents,        // edgechat SSE events (chat/chat_events.hpp)
  kOpenAiChunks,  // chat.completion.chunk SSE
  kBuffered,      // no stream: the whole answer is returned
};

struct AnswerSpec {
  std::string user_id;  // "" for anonymous widget chats
  std::string chat_id;  // "" for stateless calls (nothing stored)
  std::string reply_to;
  std::string question;
  std::vector<ChatTurn> history;  // oldest first, without the question
  std::string system_prompt;      // "" = the default RAG prompt
  bool use_documents = true;
  std::vector<std::string> document_ids;
  size_t top_k = 5;
  std::vector<ProviderTarget> candidates;  // tried in order until one yields its first token
  std::string memory_id;                   // memory stream used (frames appended after the turn)
  std::string memory_summary;
  int max_tokens = 0;       // 0: the model's default output reservation
  double temperature = -1;  // < 0: provider default
  AnswerFormat format = AnswerFormat::kEvents;
  bool resumable = true;  // kEvents: buffer the events in a stream log
  bool record_training = false;
  std::string training_source = "rag_chat";
  std::string openai_id;  // kOpenAiChunks: the chatcmpl id
  bool openai_include_usage = false;
  std::string route_name;  // for the trace: "chat", "completions", "si.ask", …
};

struct ProviderAttempt {
  std::string provider;
  std::string model;
  std::string outcome;  // ok | error code
  double latency_ms = 0;
};

struct AnswerOutcome {
  std::string message_id;
  std::string stream_id;
  std::string text;
  std::string status = "complete";  // complete | partial | error
  std::string provider;
  std::string model;
  std::string finish_reason;
  std::string error_code;
  std::string error_message;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  bool tokens_estimated = false;
  json sources = json::array();
  std::vector<int> citations;
  std::vector<ProviderAttempt> attempts;
  std::vector<ChatTurn> prompt;  // the messages the answering provider was sent
  double latency_ms = 0;
  double first_token_ms = -1;
  bool client_gone = false;
  // Credits (chat/answer_billing.hpp), for an answer to a signed-in user.
  bool metered = false;
  int64_t credits_reserved = 0;
  int64_t credits_used = 0;
  int64_t credits_balance = 0;
};

// kEvents/kOpenAiChunks open the response stream themselves (the handler then just returns
// sse_head()); an error is returned only if it happened before the stream was opened.
// kBuffered returns the outcome, or the last provider's error when no candidate produced text.
Task<Result<AnswerOutcome>> run_answer(Ctx& ctx, AnswerSpec spec);

// The `sources` event's entries for prompt sources (n, documentId, title, …).
json sources_json(const std::vector<PromptSource>& used, const json& extra_by_n);

}  // namespace ec
