// One-shot (non-streaming) text generation for ingest-time tasks: knowledge-graph extraction and
// file summaries. Uses Workers AI when the AI binding is present (model WORKERS_AI_TEXT_MODEL,
// default @cf/meta/llama-3.1-8b-instruct) unless LLM_TASKS=local. Callers fall back to their
// local (non-LLM) algorithm when this returns nullopt or fails, and record which one answered.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>

namespace ec {

struct LlmText {
  std::string text;
  std::string provider;  // "workers-ai"
  std::string model;
};

bool llm_configured(const Ctx& ctx);

// nullopt-as-error: 503 "ai.unavailable" when no LLM is configured.
Task<Result<LlmText>> complete_text(Ctx& ctx, std::string system, std::string user, int max_tokens);

}  // namespace ec
