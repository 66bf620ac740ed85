#include "chat/provider_stream.hpp"

#include "bindings/ai.hpp"
#include "bindings/http_fetch.hpp"
#include "chat/local_answerer.hpp"
#include "core/utf8.hpp"
#include "providers/wire_gemini.hpp"
#include "providers/wire_openai.hpp"
#include "providers/wire_workers_ai.hpp"

namespace ec {

namespace {

// Upstream error bodies are read only this far: enough for the provider's message.
constexpr size_t kErrorBodyBytes = 4096;

std::vector<StreamPiece> normalise(std::string_view provider, std::string_view data) {
  if (provider == kProviderGoogle) return gemini_stream_pieces(data);
  if (provider == kProviderWorkersAi) return workers_ai_stream_pieces(data);
  return openai_stream_pieces(data);
}

}  // namespace

ProviderStream ProviderStream::local(std::vector<std::string> pieces) {
  ProviderStream s;
  s.provider_ = std::string(kProviderLocal);
  s.local_ = true;
  s.local_pieces_ = std::move(pieces);
  return s;
}

ProviderStream ProviderStream::remote(std::string provider, int64_t upstream) {
  ProviderStream s;
  s.provider_ = std::move(provider);
  s.upstream_ = upstream;
  return s;
}

std::vector<StreamPiece> ProviderStream::feed(std::string_view bytes) {
  std::vector<StreamPiece> out;
  if (ended_) return out;
  if (bytes.empty()) {
    ended_ = true;
    decoder_.finish();
  } else {
    decoder_.feed(bytes);
  }
  for (const SseEvent& e : decoder_.take()) {
    for (StreamPiece& p : normalise(provider_, e.data)) {
      // Workers AI repeats its end signal; keep the first finish only.
      if (p.kind == PieceKind::finish) {
        if (finished_) continue;
        finished_ = true;
      }
      errored_ = errored_ || p.kind == PieceKind::error;
      out.push_back(std::move(p));
    }
  }
  if (decoder_.failed()) {
    ended_ = true;
    out.push_back(
        error_piece(Err::provider_bad_stream, "an upstream event exceeded the size limit"));
  } else if (ended_ && !finished_) {
    // An SSE stream that simply ends (Gemini always does) finished normally unless it errored
    // (in this read or any earlier one).
    if (!errored_) out.push_back(finish_piece("stop"));
    finished_ = true;
  }
  return out;
}

std::vector<StreamPiece> ProviderStream::next_local() {
  std::vector<StreamPiece> out;
  if (local_next_ < local_pieces_.size()) {
    out.push_back(delta_piece(std::move(local_pieces_[local_next_++])));
  }
  if (local_next_ >= local_pieces_.size() && !ended_) {
    ended_ = true;
    out.push_back(finish_piece("stop"));
  }
  return out;
}

ProviderHttpRequest provider_http_request(const ProviderTarget& target, ChatRequest req) {
  req.model = target.model;
  if (target.provider == kProviderGoogle) {
    GeminiOptions opt;
    if (!target.base_url.empty()) opt.base_url = target.base_url;
    opt.api_key = target.api_key;
    return gemini_chat_request(req, opt);
  }
  OpenAiOptions opt;
  if (!target.base_url.empty()) opt.base_url = target.base_url;
  opt.api_key = target.api_key;
  return openai_chat_request(req, opt);
}

std::string summarize_provider_error(std::string_view body) {
  std::string text = body.size() > 300 ? std::string(body.substr(0, utf8_prefix_bytes(body, 300)))
                                       : std::string(body);
  // Providers sometimes echo the key they rejected ("Incorrect API key provided: sk-…"): keep
  // only its first characters.
  for (std::string_view marker : {"sk-", "AIza", "gsk_"}) {
    size_t at = 0;
    while ((at = text.find(marker, at)) != std::string::npos) {
      size_t end = at + marker.size();
      while (end < text.size() && text[end] != ' ' && text[end] != '"' && text[end] != ',') ++end;
      text.replace(at + marker.size(), end - at - marker.size(), "***");
      at += marker.size() + 3;
    }
  }
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return utf8_scrubbed(text);
}

Task<Result<ProviderStream>> open_provider_stream(Ctx& ctx, ProviderTarget target, ChatRequest req,
                                                  std::string question,
                                                  std::vector<PromptSource> sources) {
  req.stream = true;
  req.model = target.model;
  if (target.provider == kProviderLocal) {
    co_return ProviderStream::local(local_answer(question, sources));
  }
  if (target.provider == kProviderWorkersAi) {
    WorkersAiRun run = workers_ai_chat_input(req);
    Result<UpstreamResponse> up = co_await ai_stream(ctx, run.model, std::move(run.input));
    if (!up.ok()) co_return up.take_error();
    co_return ProviderStream::remote(target.provider, up.value().stream);
  }
  if (target.provider != kProviderOpenAi && target.provider != kProviderOpenAiCompatible &&
      target.provider != kProviderGoogle) {
    co_return api_error(Err::chat_bad_provider);
  }
  Result<UpstreamResponse> up =
      co_await fetch_start(ctx, provider_http_request(target, req), kProviderConnectTimeoutMs);
  if (!up.ok()) co_return up.take_error();
  const int status = up.value().status;
  const int64_t stream = up.value().stream;
  if (status < 200 || status > 299) {
    std::string body;
    while (body.size() < kErrorBodyBytes) {
      Result<std::string> more = co_await fetch_read(ctx, stream);
      if (!more.ok() || more.value().empty()) break;
      body += more.value();
    }
    Status aborted = co_await fetch_abort(ctx, stream);
    (void)aborted;
    ApiError e = api_error(Err::provider_error);
    e.detail = "HTTP " + std::to_string(status) + ": " + summarize_provider_error(body);
    co_return e;
  }
  co_return ProviderStream::remote(target.provider, stream);
}

void collect_piece(CollectedAnswer& into, const StreamPiece& p) {
  switch (p.kind) {
    case PieceKind::delta:
      into.text += p.text;
      break;
    case PieceKind::usage:
      into.tokens_in = p.tokens_in;
      into.tokens_out = p.tokens_out;
      break;
    case PieceKind::finish:
      if (into.finish_reason.empty()) into.finish_reason = p.finish_reason;
      break;
    case PieceKind::error:
      if (into.error_code.empty()) {
        into.error_code = p.error_code;
        into.error_message = p.error_message;
      }
      break;
  }
}

}  // namespace ec
