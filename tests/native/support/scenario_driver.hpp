// Drives one scripted coroutine through the Runtime exactly as the shim does (envelope in, effect
// frames out, result frames back) for binding tests that need no route: `answer` writes each
// effect's result, and the scenario's response body (a JSON log of what it saw) is returned.
// It also checks that the finished session was released.
#pragma once

#include "core/frame.hpp"
#include "core/runtime.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace ec::testing {

using EffectAnswer =
    std::function<void(const std::string& op, const nlohmann::json& args, FrameWriter& w)>;

inline nlohmann::json run_scenario(EntryFn scenario, const EffectAnswer& answer,
                                   int max_rounds = 40) {
  FrameWriter env;
  env.u32(1);
  env.f64(0);
  env.str(std::string(16, 'r'));
  env.str("GET");
  env.str("/");
  env.str("");
  env.u32(0);
  Runtime rt(scenario);
  std::string out(rt.start(env.take()));
  for (int i = 0; i < max_rounds; ++i) {
    FrameReader r(out);
    if (*r.u8() == 2) break;
    uint32_t session = *r.u32();
    uint32_t n = *r.u32();
    FrameWriter w;
    w.f64(0);
    w.u32(n);
    for (uint32_t k = 0; k < n; ++k) {
      std::string op(*r.str());
      answer(op, nlohmann::json::parse(std::string(*r.str())), w);
    }
    out = std::string(rt.resume(session, w.take()));
  }
  FrameReader r(out);
  REQUIRE(*r.u8() == 2);
  (void)r.u32();
  (void)r.u32();
  for (uint32_t n = *r.u32(); n > 0; --n) {
    (void)r.str();
    (void)r.str();
  }
  CHECK(rt.session_count() == 0);  // the finished session was released
  return nlohmann::json::parse(std::string(*r.str()));
}

}  // namespace ec::testing
