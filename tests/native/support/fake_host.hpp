// FakeHost: the native stand-in for the JS shim. It drives the core through the exact C ABI the
// Worker uses (src/abi/exports.cpp) and answers effects for real — SQLite for D1 (with the repo's
// migrations), OpenSSL for WebCrypto — while recording the effect sequence so tests
// can assert what I/O a handler performed.
#pragma once

#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ec::testing {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  int status = 0;
  Headers headers;
  std::string body;
  json body_json;  // parsed body, or null
  std::string log;
  std::vector<std::string> ops;  // effect ops performed, in order

  const std::string* header(std::string_view lower_name) const;
};

// Outcome an interceptor may force for an effect: {ok, data} or {error code, message}.
struct ForcedResult {
  bool ok = true;
  std::string data;
  std::string code;
};

class FakeHost {
 public:
  static std::map<std::string, std::string> default_env();

  explicit FakeHost(std::map<std::string, std::string> env = default_env(),
                    bool apply_migrations = true);
  ~FakeHost();
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  HttpResult request(const std::string& method, const std::string& target, Headers headers = {},
                     std::string body = "");
  HttpResult get(const std::string& target, const std::string& bearer = "");
  HttpResult post(const std::string& target, const json& body, const std::string& bearer = "");

  // Clock (ms since epoch) the envelope and every resume carry.
  double now_ms = 1795000000000.0;
  void advance_seconds(double s) { now_ms += s * 1000.0; }

  // When set and it returns a value, that value answers the effect instead of the real host.
  std::function<std::optional<ForcedResult>(const std::string& op, const json& args)> intercept;

  // Highest PBKDF2 iteration count requested: production Workers refuse > 100,000.
  int64_t max_pbkdf2_iterations = 0;

  // Answers one effect exactly as during a request, for tests that drive a core coroutine
  // directly through a Ctx (service-level tests that need no route).
  ForcedResult answer(const std::string& op, const std::string& payload) {
    return perform(op, payload, "");
  }

  sqlite3* db() const { return db_; }
  json query(const std::string& sql);  // rows as JSON objects, for assertions

 private:
  ForcedResult perform(const std::string& op, const std::string& payload, const std::string& body);
  ForcedResult d1(const std::string& op, const json& args);
  std::string next_random(size_t n);

  sqlite3* db_ = nullptr;
  std::map<std::string, std::pair<double, double>> rate_limiters_;  // GCRA state per object name
  uint64_t rng_state_ = 0x9e3779b97f4a7c15ULL;
};

}  // namespace ec::testing
