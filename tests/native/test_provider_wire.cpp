// Provider wire formats end to end without a network: recorded-shape streams for OpenAI, Gemini
// and Workers AI, split at arbitrary byte boundaries, go through SseDecoder and each normaliser and
// must fold to the same text, usage and finish reason; malformed and error chunks become error
// pieces; request builders produce the documented URL, headers and body, and an API key appears
// nowhere but its auth header.
#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "providers/sse.hpp"
#include "providers/wire_gemini.hpp"
#include "providers/wire_openai.hpp"
#include "providers/wire_workers_ai.hpp"

#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using ec::ChatMessage;
using ec::ChatRequest;
using ec::ChatRole;
using ec::PieceKind;
using ec::StreamPiece;

namespace {

using Normaliser = std::function<std::vector<StreamPiece>(std::string_view)>;

// What a chat service would keep from a stream.
struct Folded {
  std::string text;
  int64_t tokens_in = -1;
  int64_t tokens_out = -1;
  std::string finish;  // the first finish piece
  std::vector<std::string> errors;
  bool operator==(const Folded& o) const {
    return text == o.text && tokens_in == o.tokens_in && tokens_out == o.tokens_out &&
           finish == o.finish && errors == o.errors;
  }
};

void fold(Folded& f, const std::vector<StreamPiece>& pieces) {
  for (const StreamPiece& p : pieces) {
    switch (p.kind) {
      case PieceKind::delta:
        CHECK_FALSE(p.text.empty());
        f.text += p.text;
        break;
      case PieceKind::usage:
        f.tokens_in = p.tokens_in;
        f.tokens_out = p.tokens_out;
        break;
      case PieceKind::finish:
        if (f.finish.empty()) f.finish = p.finish_reason;
        break;
      case PieceKind::error:
        f.errors.push_back(p.error_code);
        break;
    }
  }
}

Folded run(const std::vector<std::string_view>& chunks, const Normaliser& norm) {
  ec::SseDecoder dec;
  Folded f;
  for (std::string_view c : chunks) {
    dec.feed(c);
    for (const ec::SseEvent& e : dec.take()) fold(f, norm(e.data));
  }
  REQUIRE_FALSE(dec.failed());
  dec.finish();
  return f;
}

// The whole stream, then every 2-way split, then random chunkings: all must agree.
void check_all_splits(std::string_view stream, const Normaliser& norm, const Folded& want) {
  REQUIRE(run({stream}, norm) == want);
  for (size_t i = 0; i <= stream.size(); ++i) {
    if (!(run({stream.substr(0, i), stream.substr(i)}, norm) == want)) FAIL("split at " << i);
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string_view> chunks;
    for (size_t pos = 0; pos < stream.size();) {
      size_t n =
          std::min<size_t>(std::uniform_int_distribution<size_t>(1, 40)(rng), stream.size() - pos);
      chunks.push_back(stream.substr(pos, n));
      pos += n;
    }
    REQUIRE(run(chunks, norm) == want);
  }
}

// Shapes as documented by each provider (OpenAI chat.completion.chunk with include_usage; Gemini
// GenerateContentResponse over alt=sse, CRLF-framed; Workers AI {"response"} pieces).
const std::string kOpenAiStream =
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":", w\u00f6rld\n"},"logprobs":null,"finish_reason":null}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null})"
    "\n\n"
    R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":4,"total_tokens":16}})"
    "\n\n"
    "data: [DONE]\n\n";

const std::string kGeminiStream =
    R"(data: {"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 1,"totalTokenCount": 10},"modelVersion": "gemini-2.0-flash"})"
    "\r\n\r\n"
    R"(data: {"candidates": [{"content": {"parts": [{"text": "thinking...", "thought": true},{"text": ", wörld"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 3,"totalTokenCount": 12},"modelVersion": "gemini-2.0-flash"})"
    "\r\n\r\n"
    R"(data: {"candidates": [{"content": {"parts": [{"text": "\n"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 4,"thoughtsTokenCount": 2,"totalTokenCount": 15},"modelVersion": "gemini-2.0-flash"})"
    "\r\n\r\n";

const std::string kWorkersAiStream =
    "data: {\"response\":\"Hello\",\"p\":\"abcdefgh\"}\n\n"
    "data: {\"response\":\", w\\u00f6rld\\n\"}\n\n"
    "data: {\"response\":\"\",\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":3,"
    "\"total_tokens\":23}}\n\n"
    "data: [DONE]\n\n";

ChatRequest sample_request(bool stream = true) {
  ChatRequest r;
  r.model = "m-1";
  r.messages = {{ChatRole::system, "Be brief."},
                {ChatRole::system, "Cite sources."},
                {ChatRole::user, "Hi"},
                {ChatRole::assistant, "Hello!"},
                {ChatRole::user, "What is \"SSE\"?"},
                {ChatRole::user, "Answer in one line."}};
  r.max_tokens = 256;
  r.temperature = 0.25;
  r.stream = stream;
  return r;
}

std::string header(const ec::ProviderHttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

// The key must appear exactly once across URL, headers and body: in the named header.
void check_key_only_in(const ec::ProviderHttpRequest& r, const std::string& key,
                       std::string_view auth_header) {
  CHECK(r.url.find(key) == std::string::npos);
  CHECK(r.body.find(key) == std::string::npos);
  int seen = 0;
  for (const auto& [k, v] : r.headers) {
    CHECK(k.find(key) == std::string::npos);
    if (v.find(key) != std::string::npos) {
      CHECK(k == auth_header);
      ++seen;
    }
  }
  CHECK(seen == 1);
}

ec::json body_of(const ec::ProviderHttpRequest& r) {
  auto j = ec::parse_json(r.body);
  REQUIRE(j.has_value());
  return *j;
}

const Folded kWant{"Hello, wörld\n", 0, 0, "stop", {}};

Folded want(int64_t in, int64_t out) {
  Folded f = kWant;
  f.tokens_in = in;
  f.tokens_out = out;
  return f;
}

}  // namespace

TEST_CASE("openai: recorded stream folds the same under any chunking", "[providers]") {
  check_all_splits(kOpenAiStream, ec::openai_stream_pieces, want(12, 4));
}

TEST_CASE("gemini: recorded stream folds the same under any chunking", "[providers]") {
  // tokens_out = candidates (4) + thoughts (2); the thought part is not answer text.
  check_all_splits(kGeminiStream, ec::gemini_stream_pieces, want(9, 6));
}

TEST_CASE("workers ai: recorded stream folds the same under any chunking", "[providers]") {
  check_all_splits(kWorkersAiStream, ec::workers_ai_stream_pieces, want(20, 3));
}

TEST_CASE("workers ai: OpenAI-shaped chunks from newer models are understood", "[providers]") {
  check_all_splits(kOpenAiStream, ec::workers_ai_stream_pieces, want(12, 4));
}

TEST_CASE("normalisers: malformed chunks become provider.bad_stream, never a crash",
          "[providers]") {
  const std::vector<std::string> bad = {
      "",   "{",    "{not json}",          "[1,2]",         "\"str\"",
      "42", "null", std::string(200, '['), "{\"a\":1}\x01", std::string("{\"a\":1}\0", 8)};
  for (const std::string& data : bad) {
    INFO(data);
    for (const Normaliser& norm :
         {Normaliser(ec::openai_stream_pieces), Normaliser(ec::workers_ai_stream_pieces)}) {
      auto pieces = norm(data);
      REQUIRE(pieces.size() == 1);
      CHECK(pieces[0].kind == PieceKind::error);
      CHECK(pieces[0].error_code == "provider.bad_stream");
    }
    if (data != "[1,2]") {  // Gemini accepts arrays (the non-SSE framing); [1,2] is still bad
      auto pieces = ec::gemini_stream_pieces(data);
      REQUIRE(pieces.size() == 1);
      CHECK(pieces[0].error_code == "provider.bad_stream");
    }
  }
  auto arr = ec::gemini_stream_pieces("[1,2]");
  REQUIRE(arr.size() == 1);
  CHECK(arr[0].error_code == "provider.bad_stream");
}

TEST_CASE("normalisers: wrong-typed fields are ignored, not trusted", "[providers]") {
  CHECK(ec::openai_stream_pieces(R"({"choices":[{"delta":{"content":5},"finish_reason":7}],)"
                                 R"("usage":"x"})")
            .empty());
  CHECK(ec::openai_stream_pieces(R"({"choices":"x"})").empty());
  CHECK(ec::openai_stream_pieces(R"({"choices":[null]})").empty());
  CHECK(
      ec::gemini_stream_pieces(R"({"candidates":[{"content":{"parts":[{"text":1},3]}}]})").empty());
  CHECK(ec::gemini_stream_pieces(R"({"candidates":[5]})").empty());
  CHECK(ec::workers_ai_stream_pieces(R"({"response":{"nested":true}})").empty());
  auto u = ec::openai_stream_pieces(R"({"choices":[],"usage":{"prompt_tokens":-1}})");
  REQUIRE(u.size() == 1);
  CHECK(u[0].tokens_in == -1);
  CHECK(u[0].tokens_out == 0);
}

TEST_CASE("normalisers: provider error objects", "[providers]") {
  auto o = ec::openai_stream_pieces(
      R"({"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}})");
  REQUIRE(o.size() == 1);
  CHECK(o[0].kind == PieceKind::error);
  CHECK(o[0].error_code == "provider.error");
  CHECK(o[0].error_message == "rate_limit_exceeded: Rate limit reached");

  auto g = ec::gemini_stream_pieces(
      R"({"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}})");
  REQUIRE(g.size() == 1);
  CHECK(g[0].error_code == "provider.error");
  CHECK(g[0].error_message == "RESOURCE_EXHAUSTED: Resource has been exhausted");
  auto ga = ec::gemini_stream_pieces(R"([{"error":{"code":500,"message":"boom"}}])");
  REQUIRE(ga.size() == 1);
  CHECK(ga[0].error_message == "boom");

  auto blocked = ec::gemini_stream_pieces(
      R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":5}})");
  REQUIRE(blocked.size() == 2);
  CHECK(blocked[0].error_code == "provider.blocked");
  CHECK(blocked[1].kind == PieceKind::usage);
  CHECK(blocked[1].tokens_in == 5);

  auto w = ec::workers_ai_stream_pieces(R"({"error":"AiError: capacity exceeded"})");
  REQUIRE(w.size() == 1);
  CHECK(w[0].error_code == "provider.error");
  CHECK(w[0].error_message == "AiError: capacity exceeded");
}

TEST_CASE("gemini: finish reasons are normalised", "[providers]") {
  auto reason = [](std::string r) {
    auto p = ec::gemini_stream_pieces(R"({"candidates":[{"finishReason":")" + r + R"("}]})");
    REQUIRE(p.size() == 1);
    return p[0].finish_reason;
  };
  CHECK(reason("STOP") == "stop");
  CHECK(reason("MAX_TOKENS") == "length");
  CHECK(reason("SAFETY") == "content_filter");
  CHECK(reason("RECITATION") == "content_filter");
  CHECK(reason("MALFORMED_FUNCTION_CALL") == "malformed_function_call");
}

TEST_CASE("openai: chat URL rule", "[providers]") {
  CHECK(ec::openai_chat_url("https://api.openai.com") ==
        "https://api.openai.com/v1/chat/completions");
  CHECK(ec::openai_chat_url("https://api.openai.com/") ==
        "https://api.openai.com/v1/chat/completions");
  CHECK(ec::openai_chat_url("https://api.openai.com/v1") ==
        "https://api.openai.com/v1/chat/completions");
  CHECK(ec::openai_chat_url("http://localhost:11434/v1/") ==
        "http://localhost:11434/v1/chat/completions");
  CHECK(ec::openai_chat_url("http://127.0.0.1:8080") ==
        "http://127.0.0.1:8080/v1/chat/completions");
  CHECK(ec::openai_chat_url("https://generativelanguage.googleapis.com/v1beta/openai/") ==
        "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions");
  CHECK(ec::openai_chat_url("https://api.groq.com/openai/v1") ==
        "https://api.groq.com/openai/v1/chat/completions");
  CHECK(ec::openai_chat_url("https://v1.example.com") ==
        "https://v1.example.com/v1/chat/completions");
  CHECK(ec::openai_chat_url("https://proxy.example.com/llm") ==
        "https://proxy.example.com/llm/v1/chat/completions");
}

TEST_CASE("openai: request builder", "[providers]") {
  const std::string key = "sk-test-SECRET-0123456789";
  auto r = ec::openai_chat_request(sample_request(), {"https://api.openai.com", key});
  CHECK(r.method == "POST");
  CHECK(r.url == "https://api.openai.com/v1/chat/completions");
  CHECK(header(r, "authorization") == "Bearer " + key);
  CHECK(header(r, "content-type") == "application/json");
  CHECK(header(r, "accept") == "text/event-stream");
  check_key_only_in(r, key, "authorization");

  ec::json b = body_of(r);
  CHECK(b == ec::json::parse(R"({
    "model":"m-1",
    "messages":[{"role":"system","content":"Be brief."},{"role":"system","content":"Cite sources."},
                {"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},
                {"role":"user","content":"What is \"SSE\"?"},
                {"role":"user","content":"Answer in one line."}],
    "stream":true,"stream_options":{"include_usage":true},
    "max_completion_tokens":256,"temperature":0.25})"));

  SECTION("compatible servers get max_tokens and no auth header without a key") {
    auto local = ec::openai_chat_request(sample_request(), {"http://localhost:11434/v1", ""});
    CHECK(local.url == "http://localhost:11434/v1/chat/completions");
    CHECK(header(local, "authorization") == "<absent>");
    ec::json lb = body_of(local);
    CHECK(lb.contains("max_tokens"));
    CHECK_FALSE(lb.contains("max_completion_tokens"));
  }
  SECTION("non-streaming omits stream_options; defaults are omitted") {
    ChatRequest req = sample_request(false);
    req.max_tokens = 0;
    req.temperature = -1;
    ec::json nb = body_of(ec::openai_chat_request(req, {"https://api.openai.com", key}));
    CHECK(nb["stream"] == false);
    CHECK_FALSE(nb.contains("stream_options"));
    CHECK_FALSE(nb.contains("max_completion_tokens"));
    CHECK_FALSE(nb.contains("temperature"));
  }
}

TEST_CASE("gemini: request builder", "[providers]") {
  const std::string key = "AIzaSy-SECRET-abcdef";
  auto r = ec::gemini_chat_request(sample_request(), {std::string(ec::kGeminiDefaultBaseUrl), key});
  CHECK(r.method == "POST");
  CHECK(
      r.url ==
      "https://generativelanguage.googleapis.com/v1beta/models/m-1:streamGenerateContent?alt=sse");
  CHECK(header(r, "x-goog-api-key") == key);
  CHECK(header(r, "authorization") == "<absent>");
  check_key_only_in(r, key, "x-goog-api-key");
  CHECK(body_of(r) == ec::json::parse(R"({
    "contents":[{"role":"user","parts":[{"text":"Hi"}]},
                {"role":"model","parts":[{"text":"Hello!"}]},
                {"role":"user","parts":[{"text":"What is \"SSE\"?"},{"text":"Answer in one line."}]}],
    "systemInstruction":{"parts":[{"text":"Be brief.\n\nCite sources."}]},
    "generationConfig":{"maxOutputTokens":256,"temperature":0.25}})"));

  SECTION("non-streaming, models/ prefix, odd model bytes, fake-server base") {
    ChatRequest req = sample_request(false);
    req.model = "models/gemini-2.0-flash";
    auto n = ec::gemini_chat_request(req, {"http://127.0.0.1:9999/", key});
    CHECK(n.url == "http://127.0.0.1:9999/v1beta/models/gemini-2.0-flash:generateContent");
    req.model = "a/b?c";
    CHECK(ec::gemini_chat_request(req, {"http://x", key}).url ==
          "http://x/v1beta/models/a%2Fb%3Fc:generateContent");
  }
  SECTION("no system message, no config") {
    ChatRequest req;
    req.model = "g";
    req.messages = {{ChatRole::user, "x"}};
    req.max_tokens = 0;
    req.temperature = -1;
    ec::json b = body_of(ec::gemini_chat_request(req, {"http://x", key}));
    CHECK_FALSE(b.contains("systemInstruction"));
    CHECK_FALSE(b.contains("generationConfig"));
  }
}

TEST_CASE("workers ai: run input", "[providers]") {
  auto run_in = ec::workers_ai_chat_input(sample_request());
  CHECK(run_in.model == "m-1");
  CHECK(run_in.input["stream"] == true);
  CHECK(run_in.input["max_tokens"] == 256);
  CHECK(run_in.input["temperature"] == 0.25);
  REQUIRE(run_in.input["messages"].size() == 6);
  CHECK(run_in.input["messages"][3] ==
        ec::json::parse(R"({"role":"assistant","content":"Hello!"})"));
}

TEST_CASE("non-streamed response parsers", "[providers]") {
  auto o = ec::parse_openai_completion(R"({"id":"chatcmpl-2","object":"chat.completion",
    "choices":[{"index":0,"message":{"role":"assistant","content":"Hi there","refusal":null},
    "logprobs":null,"finish_reason":"stop"}],
    "usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}})");
  REQUIRE(o.ok());
  CHECK(o->text == "Hi there");
  CHECK(o->tokens_in == 10);
  CHECK(o->tokens_out == 2);
  CHECK(o->finish_reason == "stop");

  auto oe = ec::parse_openai_completion(
      R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})");
  REQUIRE_FALSE(oe.ok());
  CHECK(oe.error().status == 502);
  CHECK(oe.error().code == "provider.error");
  CHECK(ec::parse_openai_completion("{").error().code == "provider.bad_reply");
  CHECK(ec::parse_openai_completion(R"({"choices":[]})").error().code == "provider.bad_reply");

  auto g = ec::parse_gemini_completion(R"({"candidates":[{"content":{"role":"model",
    "parts":[{"text":"1+1 "},{"text":"equals 2."}]},"finishReason":"STOP","index":0}],
    "usageMetadata":{"promptTokenCount":15,"candidatesTokenCount":6,"totalTokenCount":21}})");
  REQUIRE(g.ok());
  CHECK(g->text == "1+1 equals 2.");
  CHECK(g->tokens_in == 15);
  CHECK(g->tokens_out == 6);
  CHECK(g->finish_reason == "stop");
  CHECK(ec::parse_gemini_completion(R"({"error":{"code":400,"message":"API key not valid",)"
                                    R"("status":"INVALID_ARGUMENT"}})")
            .error()
            .code == "provider.error");
  CHECK(ec::parse_gemini_completion(R"({"promptFeedback":{"blockReason":"OTHER"}})").error().code ==
        "provider.blocked");
  CHECK(ec::parse_gemini_completion("nope").error().code == "provider.bad_reply");
  CHECK(ec::parse_gemini_completion("{}").error().code == "provider.bad_reply");

  auto w = ec::parse_workers_ai_completion(ec::json::parse(
      R"({"response":"ok","usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})"));
  REQUIRE(w.ok());
  CHECK(w->text == "ok");
  CHECK(w->tokens_in == 3);
  CHECK(ec::parse_workers_ai_completion(ec::json::parse("[]")).error().code ==
        "provider.bad_reply");
}
