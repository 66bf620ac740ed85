// Native core micro-benchmark: GET /api/v1/auth/me through the exact C ABI the Worker uses
// (src/abi/exports.cpp: core_init / core_start / core_resume), no I/O, effects answered from
// memory.
//
//   edgechat_bench FIXTURE.json [warm_ms]   → one JSON object on stdout
//
// The fixture (written by bench/run.mjs from bench/lib/fixture.mjs) holds the env, the signing_keys
// row, the user ⋈ session row, and real RS256 tokens signed by Node. This binary does no RSA:
// a crypto.verify effect is answered `true` only if its (data, signature) are byte-for-byte those
// of a token in the fixture (which Node signed and verified), `false` otherwise. That answer is
// host work and, like all effect answering, is outside the timed region.
//
// Figures (same definitions as bench/wasm-core.mjs):
//   cold_instance: first /me after core_init (key ring load, signature check, user query)
//   cold_token:    a token not yet seen by this instance, ring already loaded
//   warm:          the same token again (verification cache), loop wall time per request
//   health:        GET /health (one core call, no effect), loop wall time per request
#include "core/error.hpp"
#include "core/json.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "support/abi.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using ec::json;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "edgechat_bench: %s\n", msg.c_str());
  std::exit(1);
}

// Writes a frame straight into the core's input buffer, as js-shim/frame.js does.
class InputWriter {
 public:
  explicit InputWriter(size_t cap) : p_(core_input(static_cast<uint32_t>(cap))), cap_(cap) {}
  void u8(uint8_t v) { put(&v, 1); }
  void u32(uint32_t v) { put(&v, 4); }
  void f64(double v) { put(&v, 8); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    put(s.data(), s.size());
  }
  uint32_t size() const { return static_cast<uint32_t>(pos_); }

 private:
  void put(const void* v, size_t n) {
    if (pos_ + n > cap_) die("input frame overflow");
    std::memcpy(p_ + pos_, v, n);
    pos_ += n;
  }
  char* p_;
  size_t cap_;
  size_t pos_ = 0;
};

struct Effect {
  std::string_view op, payload;
};
struct Frame {
  uint8_t kind = 0;
  uint32_t session = 0;
  std::vector<Effect> effects;
  uint32_t status = 0;
  std::string_view body, log;
};

Frame read_frame(uint32_t len) {
  std::string_view in(core_output(), len);
  size_t pos = 0;
  auto need = [&](size_t n) {
    if (pos + n > in.size()) die("short output frame");
  };
  auto u32 = [&] {
    need(4);
    uint32_t v;
    std::memcpy(&v, in.data() + pos, 4);
    pos += 4;
    return v;
  };
  auto str = [&] {
    uint32_t n = u32();
    need(n);
    std::string_view s = in.substr(pos, n);
    pos += n;
    return s;
  };
  Frame f;
  need(1);
  f.kind = static_cast<uint8_t>(in[pos++]);
  f.session = u32();
  if (f.kind == 1) {
    uint32_t n = u32();
    for (uint32_t i = 0; i < n; ++i) {
      std::string_view op = str();
      std::string_view payload = str();
      f.effects.push_back({op, payload});
    }
    return f;
  }
  f.status = u32();
  uint32_t nh = u32();
  for (uint32_t i = 0; i < nh; ++i) {
    str();
    str();
  }
  f.body = str();
  f.log = str();
  return f;
}

struct Fixture {
  std::string env_json;
  double now_ms = 0;
  std::string key_rows;  // JSON text answering d1.all
  std::string user_row;  // JSON text answering d1.first
  std::string user_id;
  std::vector<std::string> tokens;
  std::unordered_map<std::string, std::string> signatures;  // signing input → b64url signature
};

Fixture load_fixture(const char* path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die(std::string("cannot read ") + path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto doc = ec::parse_json(ss.str(), 16);
  if (!doc || !doc->is_object()) die("fixture is not a JSON object");
  Fixture fx;
  const json* env = ec::get_object(*doc, "env");
  const json* rows = ec::get_array(*doc, "keyRows");
  const json* user = ec::get_object(*doc, "userRow");
  const json* tokens = ec::get_array(*doc, "tokens");
  auto now = ec::get_number(*doc, "nowMs");
  if (!env || !rows || !user || !tokens || !now || tokens->empty()) die("fixture is incomplete");
  fx.env_json = ec::dump_json(*env);
  fx.now_ms = *now;
  fx.key_rows = ec::dump_json(*rows);
  fx.user_row = ec::dump_json(*user);
  fx.user_id = ec::string_or(*user, "id", "");
  for (const json& t : *tokens) {
    if (!t.is_string()) die("fixture token is not a string");
    const std::string& tok = *t.get_ptr<const std::string*>();
    size_t dot = tok.rfind('.');
    fx.signatures[tok.substr(0, dot)] = tok.substr(dot + 1);
    fx.tokens.push_back(tok);
  }
  return fx;
}

void init_core(const Fixture& fx) {
  std::memcpy(core_input(static_cast<uint32_t>(fx.env_json.size())), fx.env_json.data(),
              fx.env_json.size());
  uint32_t rc = core_init(static_cast<uint32_t>(fx.env_json.size()));
  if (rc != 0) die("core_init returned " + std::to_string(rc));
}

struct Host {
  const Fixture& fx;
  std::mt19937_64 rng{42};
  int verifies = 0;

  std::string random(size_t n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rng());
    return out;
  }

  // The answer to one effect (host work: never timed).
  std::string answer(const Effect& e) {
    if (e.op == "random")
      return random(static_cast<size_t>(std::atoi(std::string(e.payload).c_str())));
    auto args = ec::parse_json(e.payload, 32);
    if (!args) die("malformed payload for " + std::string(e.op));
    if (e.op == "d1.all") {
      if (ec::string_or(*args, "sql", "").find("FROM signing_keys") == std::string::npos) {
        die("unexpected d1.all");
      }
      return fx.key_rows;
    }
    if (e.op == "d1.first") {
      const json* params = ec::get_array(*args, "params");
      if (ec::string_or(*args, "sql", "").find("LEFT JOIN sessions") == std::string::npos ||
          params == nullptr || params->empty() || !(*params)[0].is_string() ||
          *(*params)[0].get_ptr<const std::string*>() != fx.user_id) {
        die("unexpected d1.first: " + std::string(e.payload));
      }
      return fx.user_row;
    }
    if (e.op == "crypto.verify") {
      ++verifies;
      auto it = fx.signatures.find(ec::string_or(*args, "data", ""));
      bool good = it != fx.signatures.end() && it->second == ec::string_or(*args, "signature", "");
      return good ? "true" : "false";
    }
    die("unexpected effect " + std::string(e.op));
  }
};

struct Headers {
  std::vector<std::pair<std::string, std::string>> list;
};

Headers me_headers(const std::string& token) {
  return {{{"accept", "*/*"},
           {"authorization", "Bearer " + token},
           {"host", "127.0.0.1:8787"},
           {"user-agent", "autocannon/8.0.0"}}};
}

uint32_t start_get(std::string_view path, double now_ms, const std::string& random,
                   const Headers& h) {
  size_t cap = 4 + 8 + 4 + random.size() + 4 + 3 + 4 + path.size() + 4 + 4;
  for (const auto& [k, v] : h.list) cap += 8 + k.size() + v.size();
  InputWriter w(cap);
  w.u32(1);
  w.f64(now_ms);
  w.str(random);
  w.str("GET");
  w.str(path);
  w.str("");
  w.u32(static_cast<uint32_t>(h.list.size()));
  for (const auto& [k, v] : h.list) {
    w.str(k);
    w.str(v);
  }
  return core_start(w.size());
}
uint32_t start_me(double now_ms, const std::string& random, const Headers& h) {
  return start_get("/api/v1/auth/me", now_ms, random, h);
}
uint32_t start_health(double now_ms, const std::string& random, const Headers& h) {
  return start_get("/health", now_ms, random, h);
}

uint32_t resume(uint32_t session, double now_ms, const std::vector<std::string>& results) {
  size_t cap = 12;
  for (const auto& r : results) cap += 5 + r.size();
  InputWriter w(cap);
  w.f64(now_ms);
  w.u32(static_cast<uint32_t>(results.size()));
  for (const auto& r : results) {
    w.u8(1);
    w.str(r);
  }
  return core_resume(session, w.size());
}

struct Shape {
  int trips = 0;
  std::vector<std::string> ops;
};

// One request; returns µs spent inside core calls (frame writing included, answering excluded).
double me_request(Host& host, const std::string& token, double now_ms, Shape* shape) {
  Headers h = me_headers(token);
  std::string random = host.random(128);
  std::vector<std::string> results;
  auto t0 = Clock::now();
  Frame f = read_frame(start_me(now_ms, random, h));
  auto spent = Clock::now() - t0;
  int trips = 1;
  while (f.kind == 1) {
    results.clear();
    for (const Effect& e : f.effects) {
      if (shape) shape->ops.emplace_back(e.op);
      results.push_back(host.answer(e));
    }
    t0 = Clock::now();
    f = read_frame(resume(f.session, now_ms, results));
    spent += Clock::now() - t0;
    ++trips;
  }
  if (f.status != 200) die("/me answered " + std::to_string(f.status) + ": " + std::string(f.body));
  if (f.body.find(host.fx.user_id) == std::string_view::npos) die("/me body lacks the user id");
  if (shape) shape->trips = trips;
  return std::chrono::duration<double, std::micro>(spent).count();
}

double pct(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  size_t i =
      std::min(xs.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(xs.size())));
  return xs[i];
}

std::string stats(const std::vector<double>& xs, const Shape& s) {
  json ops = json::array();
  for (const auto& o : s.ops) ops.push_back(o);
  json j = {{"medianUs", pct(xs, 50)}, {"p10Us", pct(xs, 10)}, {"p90Us", pct(xs, 90)},
            {"samples", xs.size()},    {"trips", s.trips},     {"ops", ops}};
  return ec::dump_json(j);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: edgechat_bench FIXTURE.json [warm_ms]");
  Fixture fx = load_fixture(argv[1]);
  double warm_ms = argc > 2 ? std::atof(argv[2]) : 1500;
  Host host{fx};
  const std::string& token = fx.tokens[0];

  std::vector<double> cold_inst;
  Shape inst_shape;
  for (int i = 0; i < 2000; ++i) {
    init_core(fx);
    cold_inst.push_back(me_request(host, token, fx.now_ms, i == 0 ? &inst_shape : nullptr));
  }

  std::vector<double> cold_tok;
  Shape tok_shape;
  for (size_t i = 1; i < fx.tokens.size(); ++i) {
    cold_tok.push_back(me_request(host, fx.tokens[i], fx.now_ms, i == 1 ? &tok_shape : nullptr));
  }

  Shape warm_shape;
  me_request(host, token, fx.now_ms, &warm_shape);
  int verifies_before = host.verifies;
  Headers h = me_headers(token);
  std::vector<std::string> row{fx.user_row};
  std::vector<double> batches;
  const int batch = 5000;
  auto deadline = Clock::now() + std::chrono::duration<double, std::milli>(warm_ms);
  while (Clock::now() < deadline) {
    auto t0 = Clock::now();
    for (int i = 0; i < batch; ++i) {
      std::string random = host.random(128);
      Frame f = read_frame(start_me(fx.now_ms, random, h));
      while (f.kind == 1) {
        if (f.effects.size() != 1 || f.effects[0].op != "d1.first")
          die("warm request yielded other effects");
        f = read_frame(resume(f.session, fx.now_ms, row));
      }
      if (f.status != 200) die("warm /me answered " + std::to_string(f.status));
    }
    batches.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / batch);
  }
  if (host.verifies != verifies_before) die("warm requests verified a signature");

  // GET /health: one core call, no effect.
  Headers hh = me_headers(token);
  hh.list.erase(hh.list.begin() + 1);  // no authorization
  std::vector<double> health;
  deadline = Clock::now() + std::chrono::duration<double, std::milli>(warm_ms / 3);
  while (Clock::now() < deadline) {
    auto t0 = Clock::now();
    for (int i = 0; i < batch; ++i) {
      std::string random = host.random(128);
      Frame f = read_frame(start_health(fx.now_ms, random, hh));
      if (f.kind != 2 || f.status != 200) die("/health did not answer 200");
    }
    health.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / batch);
  }

  json ops = json::array();
  for (const auto& o : warm_shape.ops) ops.push_back(o);
  std::printf(
      "{\"coldInstance\":%s,\"coldToken\":%s,\"warm\":{\"medianUs\":%.3f,\"bestUs\":%.3f,"
      "\"batches\":%zu,\"perBatch\":%d,\"trips\":%d,\"ops\":%s},"
      "\"health\":{\"medianUs\":%.3f,\"bestUs\":%.3f,\"batches\":%zu,\"trips\":1,\"ops\":[]},"
      "\"sessionsLeft\":%u,"
      "\"verifyAnswer\":\"canned: true iff (data, signature) equal a fixture token's\"}\n",
      stats(cold_inst, inst_shape).c_str(), stats(cold_tok, tok_shape).c_str(), pct(batches, 50),
      pct(batches, 0), batches.size(), batch, warm_shape.trips, ec::dump_json(ops).c_str(),
      pct(health, 50), pct(health, 0), health.size(), core_sessions());
  return 0;
}
