// Building responses. Every error leaves the core in one shape:
//   {"error":{"code":"auth.invalid_credentials","message":"…","fields":{…}},"requestId":"…"}
// Seed-compatible routes may ask for their own legacy shape (see ErrorStyle).
#pragma once

#include "core/envelope.hpp"
#include "core/error.hpp"

#include <string_view>

namespace ec {

enum class ErrorStyle {
  kCanonical,  // the shape above
  kSeed000,    // Metacogna: {"error":"message","details":{code, fields},"requestId"}
};

Response json_reply(int status, const json& body);
Response no_content(int status = 204);
Response error_reply(const ApiError& e, std::string_view request_id,
                     ErrorStyle style = ErrorStyle::kCanonical);

}  // namespace ec
