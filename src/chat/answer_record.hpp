// What happens to a generation once it has ended, before the client gets its final event:
// the assistant message is stored (with its sources, citations, tokens and status), the turn is
// appended to the chat's memory stream and, when opted in, recorded as a training example; one
// log line per provider call; and, with LANGFUSE_* configured, a trace sent to Langfuse.
#pragma once

#include "chat/answer.hpp"

namespace ec {

Task<bool> record_answer(Ctx& ctx, const AnswerSpec& spec, const AnswerOutcome& res);

// With LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY set (LANGFUSE_BASE_URL, default
// https://cloud.langfuse.com), sends the answer's trace; runs after the client has its final
// event, and a failure is only logged.
Task<bool> send_trace(Ctx& ctx, const AnswerSpec& spec, const AnswerOutcome& res);

// {"level","msg":"provider call","provider","model","tokensIn","tokensOut","latencyMs","outcome",
//  "requestId"}: one per attempt. Never contains keys, prompts or answers.
std::string provider_call_log_line(const Ctx& ctx, const ProviderAttempt& a, int64_t tokens_in,
                                   int64_t tokens_out);

// Langfuse ingestion batch (trace-create + generation-create) for one answer.
json langfuse_batch(const AnswerSpec& spec, const AnswerOutcome& res, std::string_view trace_id,
                    std::string_view event_id_prefix, double now_ms);

}  // namespace ec
