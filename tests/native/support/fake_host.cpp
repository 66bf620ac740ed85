#include "support/fake_host.hpp"

#include "core/frame.hpp"
#include "crypto/encoding.hpp"
#include "support/abi.hpp"
#include "support/openssl_crypto.hpp"
#include "support/zlib_inflate.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ec::testing {

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string call_input(const std::string& frame) {
  std::memcpy(core_input(static_cast<uint32_t>(frame.size())), frame.data(), frame.size());
  return frame;
}

json column_value(sqlite3_stmt* st, int i) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(st, i);
    case SQLITE_NULL:
      return nullptr;
    default:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                         static_cast<size_t>(sqlite3_column_bytes(st, i)));
  }
}

ForcedResult fail(std::string code, std::string message = "") {
  return ForcedResult{false, std::move(message), std::move(code)};
}

}  // namespace

const std::string* HttpResult::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return &v;
  }
  return nullptr;
}

std::map<std::string, std::string> FakeHost::default_env() {
  // Rate limits off: tests of other routes assert their effects without the limiter's; the
  // limiter's own tests (test_rate_limit_routes.cpp) turn it on.
  return {{"ALLOWED_ORIGINS", "https://app.example"},
          {"JWT_ISSUER", "edgechat"},
          {"JWT_AUDIENCE", "edgechat-api"},
          {"PUBLIC_BASE_URL", "https://edgechat.test"},
          {"RATE_LIMITS", "off"}};
}

FakeHost::FakeHost(std::map<std::string, std::string> env, bool apply_migrations) {
  if (sqlite3_open(":memory:", &db_) != SQLITE_OK) throw std::runtime_error("sqlite open");
  sqlite3_exec(db_, "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr);
  sqlite3_exec(db_,
               "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT "
               "UNIQUE, applied_at TEXT)",
               nullptr, nullptr, nullptr);
  if (apply_migrations) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(
             std::filesystem::path(EDGECHAT_SOURCE_DIR) / "migrations")) {
      files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      char* err = nullptr;
      if (sqlite3_exec(db_, read_file(f).c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        throw std::runtime_error("migration " + f.string() + ": " + (err ? err : "?"));
      }
      query("INSERT INTO d1_migrations (name) VALUES ('" + f.filename().string() + "')");
    }
  }
  json env_json = json::object();
  for (const auto& [k, v] : env) env_json[k] = v;
  std::string text = env_json.dump();
  call_input(text);
  if (core_init(static_cast<uint32_t>(text.size())) != 0) throw std::runtime_error("core_init");
}

FakeHost::~FakeHost() { sqlite3_close(db_); }

json FakeHost::query(const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("sql: ") + sqlite3_errmsg(db_));
  }
  json rows = json::array();
  while (sqlite3_step(st) == SQLITE_ROW) {
    json row = json::object();
    for (int i = 0; i < sqlite3_column_count(st); ++i)
      row[sqlite3_column_name(st, i)] = column_value(st, i);
    rows.push_back(row);
  }
  sqlite3_finalize(st);
  return rows;
}

std::string FakeHost::next_random(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    rng_state_ ^= rng_state_ << 13;
    rng_state_ ^= rng_state_ >> 7;
    rng_state_ ^= rng_state_ << 17;
    out[i] = static_cast<char>(rng_state_ & 0xff);
  }
  return out;
}

ForcedResult FakeHost::d1(const std::string& op, const json& args) {
  // Runs one statement; returns rows and changes, or an error with D1's classification.
  auto exec = [&](const json& stmt, json* rows, int64_t* changes) -> std::optional<ForcedResult> {
    sqlite3_stmt* st = nullptr;
    std::string sql = stmt.at("sql").get<std::string>();
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      return fail("internal", sqlite3_errmsg(db_));
    }
    int i = 1;
    for (const json& p : stmt.at("params")) {
      if (p.is_null())
        sqlite3_bind_null(st, i);
      else if (p.is_boolean())
        sqlite3_bind_int64(st, i, p.get<bool>() ? 1 : 0);
      else if (p.is_number_integer())
        sqlite3_bind_int64(st, i, p.get<int64_t>());
      else if (p.is_number())
        sqlite3_bind_double(st, i, p.get<double>());
      else {
        std::string s = p.is_string() ? p.get<std::string>() : p.dump();
        sqlite3_bind_text(st, i, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
      ++i;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      json row = json::object();
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        row[sqlite3_column_name(st, c)] = column_value(st, c);
      }
      rows->push_back(row);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
      int base = rc & 0xff;
      return fail(base == SQLITE_CONSTRAINT ? "conflict" : "internal", sqlite3_errmsg(db_));
    }
    *changes = sqlite3_changes(db_);
    return std::nullopt;
  };

  if (op == "d1.batch") {
    sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
    json out = json::array();
    for (const json& stmt : args.at("statements")) {
      json rows = json::array();
      int64_t changes = 0;
      if (auto err = exec(stmt, &rows, &changes)) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return *err;
      }
      out.push_back({{"results", rows}, {"changes", changes}});
    }
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    return ForcedResult{true, out.dump(), ""};
  }
  json rows = json::array();
  int64_t changes = 0;
  if (auto err = exec(args, &rows, &changes)) return *err;
  if (op == "d1.first") return ForcedResult{true, rows.empty() ? "null" : rows[0].dump(), ""};
  if (op == "d1.all") return ForcedResult{true, rows.dump(), ""};
  json meta = {{"changes", changes}, {"lastRowId", sqlite3_last_insert_rowid(db_)}};
  return ForcedResult{true, meta.dump(), ""};
}

ForcedResult FakeHost::perform(const std::string& op, const std::string& payload,
                               const std::string& body) {
  if (op == "random") return ForcedResult{true, next_random(std::stoul(payload)), ""};
  // stream.write carries raw bytes, not JSON: interceptors get them as a string.
  json args = op == "stream.write" ? json(payload) : json::parse(payload);
  if (intercept) {
    if (auto forced = intercept(op, args)) return *forced;
  }
  if (op == "body.read") {
    if (body.size() > args.at("max").get<size_t>()) return fail("too_large", "body too large");
    return ForcedResult{true, body, ""};
  }
  if (op.rfind("d1.", 0) == 0) return d1(op, args);
  if (op == "ratelimit.check") {
    // What js-shim/rate-limiter.js does: one state per key, decided by core_gcra at the host's
    // clock, stored when the decision changed it.
    auto& st = rate_limiters_[args.at("key").get<std::string>()];
    const double limit = args.at("limit").get<double>();
    const double cost = args.value("cost", 1.0);
    const double* d =
        core_gcra(st.first, st.second, now_ms, args.at("periodMs").get<double>(), limit, cost);
    if (d[0] < 0) return fail("invalid", "bad ratelimit.check arguments");
    json out = {{"allowed", d[0] == 1},
                {"limit", limit},
                {"remaining", d[3]},
                {"resetMs", d[4]},
                {"retryAfterMs", d[5]}};
    st = {d[1], d[2]};
    return ForcedResult{true, out.dump(), ""};
  }
  if (op == "sched.yield") return ForcedResult{true, "true", ""};
  if (op == "zlib.inflate") {
    // What the shim's DecompressionStream("deflate") does, bounded by `max` like readBody.
    auto input = base64url_decode(args.at("data").get<std::string>());
    if (!input) return fail("invalid", "bad base64url");
    size_t max = args.at("max").get<size_t>();
    Inflated r = zlib_inflate(*input, max);
    if (r.too_large) return fail("too_large", "inflated data too large");
    if (!r.bytes) return fail("internal", "corrupt deflate stream");
    return ForcedResult{true, std::move(*r.bytes), ""};
  }
  if (op == "crypto.pbkdf2") {
    int64_t iterations = args.at("iterations").get<int64_t>();
    max_pbkdf2_iterations = std::max(max_pbkdf2_iterations, iterations);
    // Production Workers throws NotSupportedError above 100,000; local workerd does not.
    if (iterations > 100000) return fail("invalid", "PBKDF2 iterations above 100000");
    auto salt = base64url_decode(args.at("salt").get<std::string>());
    return ForcedResult{true,
                        pbkdf2_sha256(args.at("password").get<std::string>(), *salt,
                                      static_cast<int>(iterations), args.at("bits").get<int>() / 8),
                        ""};
  }
  if (op == "crypto.sign") {
    return ForcedResult{true, rsa_sign(args.at("jwk"), args.at("data").get<std::string>()), ""};
  }
  if (op == "crypto.verify") {
    auto sig = base64url_decode(args.at("signature").get<std::string>());
    bool ok = sig && rsa_verify(args.at("jwk"), args.at("data").get<std::string>(), *sig);
    return ForcedResult{true, ok ? "true" : "false", ""};
  }
  if (op == "crypto.generate_rsa") {
    return ForcedResult{true, json{{"privateJwk", rsa_generate_private_jwk()}}.dump(), ""};
  }
  if (op == "crypto.import_pem") {
    try {
      json jwk = rsa_pem_to_private_jwk(args.at("pem").get<std::string>());
      return ForcedResult{true, json{{"privateJwk", jwk}}.dump(), ""};
    } catch (const std::exception& e) {
      return fail("invalid", e.what());
    }
  }
  return fail("invalid", "unknown op " + op);
}

HttpResult FakeHost::request(const std::string& method, const std::string& target, Headers headers,
                             std::string body) {
  size_t q = target.find('?');
  std::string path = target.substr(0, q);
  std::string query = q == std::string::npos ? "" : target.substr(q + 1);
  for (auto& [k, v] : headers) {
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  }
  FrameWriter w;
  w.u32(1);
  w.f64(now_ms);
  w.str(next_random(128));
  w.str(method);
  w.str(path);
  w.str(query);
  w.u32(static_cast<uint32_t>(headers.size()));
  for (const auto& [k, v] : headers) {
    w.str(k);
    w.str(v);
  }
  std::string frame = call_input(w.take());
  uint32_t len = core_start(static_cast<uint32_t>(frame.size()));

  HttpResult out;
  for (int round = 0; round < 1000; ++round) {
    FrameReader r(std::string_view(core_output(), len));
    uint8_t kind = *r.u8();
    uint32_t session = *r.u32();
    if (kind == 2) {
      out.status = static_cast<int>(*r.u32());
      uint32_t nh = *r.u32();
      for (uint32_t i = 0; i < nh; ++i) {
        std::string k(*r.str());
        std::string v(*r.str());
        out.headers.emplace_back(k, v);
      }
      out.body = std::string(*r.str());
      out.log = std::string(*r.str());
      out.body_json = json::parse(out.body, nullptr, false);
      if (out.body_json.is_discarded()) out.body_json = nullptr;
      return out;
    }
    uint32_t n = *r.u32();
    std::vector<std::pair<std::string, std::string>> effects;
    for (uint32_t i = 0; i < n; ++i) {
      std::string op(*r.str());
      std::string payload(*r.str());
      effects.emplace_back(op, payload);
    }
    FrameWriter rw;
    rw.f64(now_ms);
    rw.u32(n);
    for (const auto& [op, payload] : effects) {
      out.ops.push_back(op);
      ForcedResult res = perform(op, payload, body);
      if (res.ok) {
        rw.u8(1);
        rw.str(res.data);
      } else {
        rw.u8(0);
        rw.str(res.code);
        rw.str(res.data);
      }
    }
    std::string results = call_input(rw.take());
    len = core_resume(session, static_cast<uint32_t>(results.size()));
  }
  throw std::runtime_error("request did not finish in 1000 effect rounds");
}

HttpResult FakeHost::get(const std::string& target, const std::string& bearer) {
  Headers h;
  if (!bearer.empty()) h.emplace_back("authorization", "Bearer " + bearer);
  return request("GET", target, h);
}

HttpResult FakeHost::post(const std::string& target, const json& body, const std::string& bearer) {
  Headers h = {{"content-type", "application/json"}};
  if (!bearer.empty()) h.emplace_back("authorization", "Bearer " + bearer);
  return request("POST", target, h, body.dump());
}

}  // namespace ec::testing
