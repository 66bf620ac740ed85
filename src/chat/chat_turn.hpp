// One chat turn as the routes see it: the validated request body, and the AnswerSpec built from
// it (history from the chat, memory summary, provider candidates from the model router). Shared by
// the canonical chat routes and the seed adapters so they all validate and route alike.
#pragma once

#include "auth/users.hpp"
#include "chat/answer.hpp"
#include "chat/chat_store.hpp"
#include "chat/model_router.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ec {

inline constexpr size_t kMaxQuestionBytes = 32 * 1024;
inline constexpr size_t kMaxHistoryMessages = 40;

struct TurnRequest {
  std::string content;
  std::string provider;
  std::string model;
  std::string policy;   // "" | default | cheapest | fastest
  std::string api_key;  // per request only: never stored or logged
  bool use_documents = true;
  std::vector<std::string> document_ids;
  std::string memory_ref;
  int max_tokens = 0;
  double temperature = -1;
  bool record_training = false;
  bool fallback = true;
  bool resumable = true;
};

// Body {content, provider?, model?, policy?, apiKey?, useDocuments?, documentIds?,
// memoryStreamId?, maxTokens?, temperature?, recordTraining?, fallback?, resumable?}; the text
// field may be named otherwise by seed bodies (content_field). 400 with field errors.
Result<TurnRequest> parse_turn_request(const json& body,
                                       std::string_view content_field = "content");

ProviderTarget provider_target(const Candidate& c);

// Provider candidates for the request (explicit choice or policy, then fallbacks), as targets.
Task<Result<std::vector<ProviderTarget>>> turn_targets(Ctx& ctx, const TurnRequest& t);

// The spec for answering `question` in `chat`: history is the chat's recent messages before
// `reply_to` (the question's own message), memory loaded when memory_ref is set.
Task<Result<AnswerSpec>> prepare_turn(Ctx& ctx, const User& user, const ChatRecord& chat,
                                      TurnRequest t, std::vector<ProviderTarget> targets,
                                      std::string reply_to, int64_t reply_seq);

}  // namespace ec
