// One streamed call to one provider, normalised: open it, then read StreamPieces until it ends.
// Every provider but `local` is an SSE byte stream read incrementally (fetch.read), whether it
// came from outbound HTTP (openai, openai-compatible, google) or from the Workers AI binding
// (ai.stream), so one loop serves them all; only the request builder and the per-event
// normaliser differ. `local` runs in the core (the extractive answerer) and yields its pieces
// without I/O.
//
// The split between open and read is what fallback needs: a provider that fails while opening
// (network error, non-2xx status, an error before its first token) can be replaced by the next
// candidate without the client ever seeing it.
#pragma once

#include "chat/model_table.hpp"
#include "chat/prompt.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "providers/chat_types.hpp"
#include "providers/sse.hpp"

#include <string>
#include <vector>

namespace ec {

// Where one call goes. api_key is the configured secret or the caller's per-request key; it is
// only ever placed in the request's auth header, never logged or stored.
struct ProviderTarget {
  std::string provider;
  std::string model;
  std::string base_url;
  std::string api_key;
  size_t context_window = 8192;
  size_t max_output = 1024;
  double price_in_per_1k = 0;  // credits, from the model table: what the call is billed at
  double price_out_per_1k = 0;
};

// Time allowed for a provider's response head (and, for local servers, the model load).
inline constexpr int64_t kProviderConnectTimeoutMs = 30'000;

class ProviderStream {
 public:
  ProviderStream() = default;
  ProviderStream(ProviderStream&&) = default;
  ProviderStream& operator=(ProviderStream&&) = default;

  bool ended() const { return ended_; }
  int64_t upstream() const { return upstream_; }
  bool is_local() const { return local_; }
  // The upstream failed (a read error): nothing more will be read from it.
  void mark_ended() { ended_ = true; }

  // Local provider: the pieces, handed out one per read.
  static ProviderStream local(std::vector<std::string> pieces);
  static ProviderStream remote(std::string provider, int64_t upstream);

  // Feeds bytes read from the upstream ("" = end of stream) and returns the pieces they complete.
  // At the end, a stream that produced no finish piece gets one ("stop"), unless it failed.
  std::vector<StreamPiece> feed(std::string_view bytes);
  // Local provider: the next piece(s); ended() afterwards when none are left.
  std::vector<StreamPiece> next_local();

 private:
  std::string provider_;
  int64_t upstream_ = 0;
  bool local_ = false;
  bool ended_ = false;
  bool finished_ = false;
  bool errored_ = false;  // an error piece was emitted: the stream did not finish
  SseDecoder decoder_;
  std::vector<std::string> local_pieces_;
  size_t local_next_ = 0;
};

// The provider-specific request for req, as an HTTP request (openai, openai-compatible, google).
ProviderHttpRequest provider_http_request(const ProviderTarget& target, ChatRequest req);

// Opens the stream. For local, `sources` and the question feed the extractive answerer. Errors:
// 502 provider.error (non-2xx; the provider's message goes to the log line only), 502/504
// upstream.* (network), 503 ai.unavailable (Workers AI), 400 chat.bad_provider.
Task<Result<ProviderStream>> open_provider_stream(Ctx& ctx, ProviderTarget target, ChatRequest req,
                                                  std::string question,
                                                  std::vector<PromptSource> sources);

// A non-2xx upstream's error text for the log (at most 300 bytes of its body, secrets redacted).
std::string summarize_provider_error(std::string_view body);

// StreamPiece → plain pieces of a completion: for the buffered (non-streamed) routes.
struct CollectedAnswer {
  std::string text;
  int64_t tokens_in = -1;  // -1: the provider did not say
  int64_t tokens_out = -1;
  std::string finish_reason;
  std::string error_code;
  std::string error_message;
};
void collect_piece(CollectedAnswer& into, const StreamPiece& p);

}  // namespace ec
