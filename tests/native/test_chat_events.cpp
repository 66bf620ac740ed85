// The client-facing SSE dialects (chat/chat_events.hpp) and the provider stream normaliser
// (chat/provider_stream.hpp), read back with the core's own WHATWG SSE decoder.
#include "chat/chat_events.hpp"
#include "chat/provider_stream.hpp"
#include "providers/sse.hpp"

#include <catch2/catch.hpp>

using namespace ec;

namespace {

std::vector<SseEvent> decode(const std::string& bytes) {
  SseDecoder d;
  d.feed(bytes);
  return d.take();
}

// Feeds `bytes` to a provider stream cut every `step` bytes, then the end of the stream.
std::vector<StreamPiece> feed_split(const std::string& provider, const std::string& bytes,
                                    size_t step) {
  ProviderStream s = ProviderStream::remote(provider, 1);
  std::vector<StreamPiece> out;
  for (size_t i = 0; i < bytes.size(); i += step) {
    for (StreamPiece& p : s.feed(std::string_view(bytes).substr(i, step))) out.push_back(p);
  }
  for (StreamPiece& p : s.feed("")) out.push_back(p);
  REQUIRE(s.ended());
  return out;
}

std::string text_of(const std::vector<StreamPiece>& ps) {
  std::string t;
  for (const StreamPiece& p : ps) {
    if (p.kind == PieceKind::delta) t += p.text;
  }
  return t;
}

}  // namespace

TEST_CASE("edgechat events carry their position as id and one JSON object as data") {
  std::string bytes = chat_event("delta", 7, {{"text", "line one\nline two"}});
  std::vector<SseEvent> es = decode(bytes);
  REQUIRE(es.size() == 1);
  CHECK(es[0].event == "delta");
  CHECK(es[0].id == "7");
  CHECK(parse_json(es[0].data)->at("text") == "line one\nline two");
}

TEST_CASE("the hand-built delta event decodes like the generic one") {
  const std::string text = "line \"one\"\r\nline two \xE2\x80\x94 caf\xC3\xA9\t\\";
  std::vector<SseEvent> fast = decode(chat_delta_event(12, text));
  std::vector<SseEvent> slow = decode(chat_event("delta", 12, {{"text", text}}));
  REQUIRE(fast.size() == 1);
  REQUIRE(slow.size() == 1);
  CHECK(fast[0].event == slow[0].event);
  CHECK(fast[0].id == slow[0].id);
  CHECK(*parse_json(fast[0].data) == *parse_json(slow[0].data));
}

TEST_CASE("OpenAI chunks have the shape the openai SDK reads") {
  OpenAiChunkHead h{"chatcmpl-x", 1700000000, "gpt-4o-mini"};
  std::string bytes = openai_delta_chunk(h, "Hel", true) + openai_delta_chunk(h, "lo", false) +
                      openai_finish_chunk(h, "stop") + openai_usage_chunk(h, 12, 3) +
                      std::string(kOpenAiDoneLine);
  std::vector<SseEvent> es = decode(bytes);
  REQUIRE(es.size() == 5);
  json first = *parse_json(es[0].data);
  CHECK(first["object"] == "chat.completion.chunk");
  CHECK(first["id"] == "chatcmpl-x");
  CHECK(first["choices"][0]["delta"]["role"] == "assistant");
  CHECK(first["choices"][0]["delta"]["content"] == "Hel");
  CHECK(first["choices"][0]["finish_reason"].is_null());
  CHECK_FALSE(parse_json(es[1].data)->at("choices")[0]["delta"].contains("role"));
  CHECK(parse_json(es[2].data)->at("choices")[0]["finish_reason"] == "stop");
  json usage = *parse_json(es[3].data);
  CHECK(usage["choices"].empty());
  CHECK(usage["usage"]["total_tokens"] == 15);
  CHECK(es[4].data == "[DONE]");
  // Reasons outside OpenAI's vocabulary read as "stop".
  CHECK(openai_finish_reason("max_tokens_whatever") == "stop");
  CHECK(openai_finish_reason("length") == "length");
}

TEST_CASE("a non-streamed completion object") {
  json c = openai_completion_json({"chatcmpl-y", 5, "m"}, "Hi [1]", "length", 10, 2);
  CHECK(c["object"] == "chat.completion");
  CHECK(c["choices"][0]["message"]["content"] == "Hi [1]");
  CHECK(c["choices"][0]["finish_reason"] == "length");
  CHECK(c["usage"]["prompt_tokens"] == 10);
}

TEST_CASE("provider streams normalise alike however the network splits them") {
  const std::string openai =
      "data: "
      "{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],\"usage\":null}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"Caf\xC3\xA9 \"}}],\"usage\":null}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"au lait [1]\"},\"finish_reason\":\"stop\"}],"
      "\"usage\":null}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4}}\n\n"
      "data: [DONE]\n\n";
  const std::string gemini =
      "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Caf\xC3\xA9 "
      "\"}]}}],\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":1}}\r\n\r\n"
      "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"au lait "
      "[1]\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":9,"
      "\"candidatesTokenCount\":4}}\r\n\r\n";
  const std::string workers =
      "data: {\"response\":\"Caf\xC3\xA9 \"}\n\ndata: {\"response\":\"au lait [1]\"}\n\n"
      "data: {\"response\":\"\",\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4}}\n\n"
      "data: [DONE]\n\n";
  for (size_t step : {size_t{1}, size_t{3}, size_t{7}, size_t{4096}}) {
    for (auto [provider, bytes] : {std::pair{"openai", openai}, std::pair{"google", gemini},
                                   std::pair{"workers-ai", workers}}) {
      INFO(provider << " in pieces of " << step);
      std::vector<StreamPiece> ps = feed_split(provider, bytes, step);
      CHECK(text_of(ps) == "Caf\xC3\xA9 au lait [1]");
      int finishes = 0;
      int64_t in = -1, out = -1;
      for (const StreamPiece& p : ps) {
        if (p.kind == PieceKind::finish) ++finishes;
        if (p.kind == PieceKind::usage) {
          in = p.tokens_in;
          out = p.tokens_out;
        }
        CHECK(p.kind != PieceKind::error);
      }
      CHECK(finishes == 1);
      CHECK(in == 9);
      CHECK(out == 4);
    }
  }
}

TEST_CASE("a stream that ends without a finish reason finished; one that errored did not") {
  std::vector<StreamPiece> ended = feed_split(
      "google", "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\n\n", 5);
  REQUIRE(ended.back().kind == PieceKind::finish);
  CHECK(ended.back().finish_reason == "stop");

  std::vector<StreamPiece> failed =
      feed_split("openai",
                 "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
                 "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
                 11);
  bool saw_error = false;
  for (const StreamPiece& p : failed) {
    saw_error = saw_error || p.kind == PieceKind::error;
    CHECK(p.kind != PieceKind::finish);
  }
  CHECK(saw_error);
}

TEST_CASE("an oversized upstream event fails the stream instead of growing the heap") {
  ProviderStream s = ProviderStream::remote("openai", 1);
  std::string huge = "data: " + std::string(kSseDefaultMaxEventBytes + 10, 'x');
  std::vector<StreamPiece> ps = s.feed(huge);
  REQUIRE_FALSE(ps.empty());
  CHECK(ps.back().kind == PieceKind::error);
  CHECK(ps.back().error_code == "provider.bad_stream");
  CHECK(s.ended());
  CHECK(s.feed("data: {}\n\n").empty());
}

TEST_CASE("the local provider hands out one piece per read, then finishes") {
  ProviderStream s = ProviderStream::local({"A [1]", " B [2]"});
  CHECK(s.is_local());
  std::vector<StreamPiece> a = s.next_local();
  REQUIRE(a.size() == 1);
  CHECK(a[0].text == "A [1]");
  CHECK_FALSE(s.ended());
  std::vector<StreamPiece> b = s.next_local();
  REQUIRE(b.size() == 2);
  CHECK(b[0].text == " B [2]");
  CHECK(b[1].kind == PieceKind::finish);
  CHECK(s.ended());
  CHECK(s.next_local().empty());
}

TEST_CASE("provider error bodies are summarised for logs without the key they echo") {
  std::string s = summarize_provider_error(
      "{\"error\":{\"message\":\"Incorrect API key provided: sk-proj-abcdef123456.\",\n"
      "\"type\":\"invalid_request_error\"}}");
  CHECK(s.find("abcdef123456") == std::string::npos);
  CHECK(s.find("sk-***") != std::string::npos);
  CHECK(s.find('\n') == std::string::npos);
  CHECK(summarize_provider_error(std::string(1000, 'a')).size() == 300);
  CHECK(summarize_provider_error("key AIzaSyABCDEF rejected").find("SyABCDEF") ==
        std::string::npos);
}

TEST_CASE("requests go to the provider's own endpoint with its own auth header") {
  ChatRequest req;
  req.model = "m";
  req.messages = {{ChatRole::user, "hi"}};
  ProviderTarget oa{"openai", "gpt-4o-mini", "http://127.0.0.1:9/", "sk-test-1", 8192, 1024};
  ProviderHttpRequest r = provider_http_request(oa, req);
  CHECK(r.url == "http://127.0.0.1:9/v1/chat/completions");
  bool auth = false;
  for (const auto& [k, v] : r.headers)
    auth = auth || (k == "authorization" && v == "Bearer sk-test-1");
  CHECK(auth);
  CHECK(r.body.find("sk-test-1") == std::string::npos);
  ProviderTarget g{"google", "gemini-2.0-flash", "http://127.0.0.1:9", "g-key", 8192, 1024};
  ProviderHttpRequest gr = provider_http_request(g, req);
  CHECK(gr.url.find("/v1beta/models/gemini-2.0-flash:streamGenerateContent") != std::string::npos);
  CHECK(gr.url.find("g-key") == std::string::npos);
}
