// Any bytes as a request, end to end through the ABI the Worker uses. Invariant: the core always
// answers with a well-formed frame — never a trap, never a stuck session — and never a 5xx except
// the storage/crypto failures this host forces.
//   byte 0 even: the rest is a raw envelope frame (hostile shim input);
//   byte 0 odd:  a valid envelope whose method, path, headers and body come from the input, so the
//                router, body limits, JSON parsing and validation of every route are exercised.
#include "core/frame.hpp"
#include "support/abi.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

void init_once() {
  static bool done = false;
  if (done) return;
  done = true;
  // RATE_LIMITER declared: every request also takes the rate limiter's path, whose effect fails
  // here like the others (it must fail open).
  std::string env = R"({"ALLOWED_ORIGINS":"https://app.example","BODY_LIMIT_BYTES":"4096",)"
                    R"("EDGECHAT_BINDINGS":"RATE_LIMITER"})";
  std::memcpy(core_input(static_cast<uint32_t>(env.size())), env.data(), env.size());
  if (core_init(static_cast<uint32_t>(env.size())) != 0) std::abort();
}

uint32_t send(const std::string& frame) {
  std::memcpy(core_input(static_cast<uint32_t>(frame.size())), frame.data(), frame.size());
  return static_cast<uint32_t>(frame.size());
}

// Splits the input on '\n' into fields; missing fields are empty.
std::vector<std::string_view> fields(std::string_view in, size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    size_t nl = in.find('\n');
    if (nl == std::string_view::npos) break;
    out.push_back(in.substr(0, nl));
    in.remove_prefix(nl + 1);
  }
  out.push_back(in);
  out.resize(n);
  return out;
}

std::string structured(std::string_view in, std::string* body) {
  static const char* kMethods[] = {"GET", "POST", "HEAD", "OPTIONS", "DELETE", "PATCH", "PUT", "x"};
  auto f = fields(in, 6);
  std::string method = in.empty() ? "GET" : kMethods[static_cast<uint8_t>(in[0]) % 8];
  *body = std::string(f[5]);
  ec::FrameWriter w;
  w.u32(1);
  w.f64(1795000000000.0);
  w.str(std::string(128, '\x42'));
  w.str(method);
  w.str(f[1].empty() ? "/api/v1/auth/login" : f[1]);
  w.str(f[2]);
  w.u32(3);
  w.str("content-type");
  w.str(f[3].empty() ? "application/json" : f[3]);
  w.str("authorization");
  w.str(f[4]);
  w.str("origin");
  w.str("https://app.example");
  return w.take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  init_once();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string body;
  std::string frame = (size > 0 && (data[0] & 1)) ? structured(in.substr(1), &body)
                                                  : std::string(in.substr(size > 0 ? 1 : 0));
  uint32_t len = core_start(send(frame));
  for (int round = 0; round < 64; ++round) {
    ec::FrameReader r(std::string_view(core_output(), len));
    uint8_t kind = r.u8().value_or(0);
    uint32_t session = r.u32().value_or(0);
    if (kind == 2) {
      uint32_t status = r.u32().value_or(0);
      if (status < 100 || status > 599) std::abort();
      break;
    }
    if (kind != 1) std::abort();  // the core must only ever emit effects or a response
    uint32_t n = r.u32().value_or(0);
    ec::FrameWriter w;
    w.f64(1795000000000.0);
    w.u32(n);
    for (uint32_t i = 0; i < n; ++i) {
      std::string op(r.str().value_or(""));
      (void)r.str();
      if (op == "body.read") {
        w.u8(1);
        w.str(body);
      } else if (op == "random") {
        w.u8(1);
        w.str(std::string(256, '\x17'));
      } else {
        w.u8(0);  // every storage / crypto effect fails: the failure path must hold too
        w.str("unavailable");
        w.str("fuzz host");
      }
    }
    len = core_resume(session, send(w.take()));
  }
  if (core_sessions() != 0) std::abort();  // nothing may be left behind
  return 0;
}
