// Effects: descriptions of I/O that the core cannot do itself. The shim performs them against the
// real bindings (D1, R2, WebCrypto, ...) and hands back an EffectResult. A failure is a value with
// a typed code, never a trap.
#pragma once

#include "core/json.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace ec {

enum class EffectError {
  kNone = 0,
  kUnavailable,  // binding not configured / not usable here
  kNotFound,
  kConflict,  // e.g. a D1 UNIQUE constraint
  kTooLarge,  // e.g. the request body exceeded the limit the core asked for
  kInvalid,   // the host rejected the effect's arguments
  kTimeout,
  kCancelled,
  kInternal,  // anything else the host could not classify
};

EffectError effect_error_from_code(std::string_view code);
std::string_view effect_error_name(EffectError e);

struct Effect {
  std::string op;       // stable op name: "d1.batch", "r2.get", "crypto.sign", ...
  std::string payload;  // op-specific; JSON text unless the op says otherwise
};

inline Effect make_effect(std::string op, const json& args) {
  return Effect{std::move(op), dump_json(args)};
}

struct EffectResult {
  EffectError error = EffectError::kNone;
  std::string data;     // on success: JSON text, or raw bytes for raw ops (body.read, random)
  std::string message;  // on failure: host's message (for logs; never sent to clients verbatim)

  bool ok() const { return error == EffectError::kNone; }
  // Parsed JSON of a successful result; null json on failure or malformed data.
  json as_json() const;
};

}  // namespace ec
