#include "text/llm_text.hpp"

#include "bindings/ai.hpp"
#include "bindings/available.hpp"

namespace ec {

bool llm_configured(const Ctx& ctx) {
  return ctx.env("LLM_TASKS", "auto") != "local" && has_binding(ctx, "AI");
}

Task<Result<LlmText>> complete_text(Ctx& ctx, std::string system, std::string user,
                                    int max_tokens) {
  if (!llm_configured(ctx)) {
    co_return api_error(Err::ai_unavailable, "No language model is configured");
  }
  std::string model(ctx.env("WORKERS_AI_TEXT_MODEL", "@cf/meta/llama-3.1-8b-instruct"));
  json input = {{"messages", json::array({{{"role", "system"}, {"content", system}},
                                          {{"role", "user"}, {"content", user}}})},
                {"max_tokens", max_tokens},
                {"temperature", 0}};
  Result<json> out = co_await ai_run(ctx, model, std::move(input));
  if (!out.ok()) co_return out.take_error();
  // Text models answer {response: "..."}; some newer ones an OpenAI-style choices array.
  std::string text = string_or(out.value(), "response", "");
  if (text.empty()) {
    if (const json* choices = get_array(out.value(), "choices"); choices && !choices->empty()) {
      if (const json* msg = get_object((*choices)[0], "message")) {
        text = string_or(*msg, "content", "");
      }
    }
  }
  if (text.empty()) co_return api_error(Err::ai_bad_reply, "The model returned no text");
  co_return LlmText{std::move(text), "workers-ai", std::move(model)};
}

}  // namespace ec
