// Errors are values: the core is built with -fno-exceptions (Debian's wasm32 libc++abi has no EH
// runtime), so every fallible operation returns Result<T> and every user-facing failure is an
// ApiError that already knows its HTTP status and stable code.
//
// Codes and statuses are stated in one place, core/error_catalog.def: a site names an `Err` and
// cannot give a code another status, nor misspell one.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ec {

using json = nlohmann::json;

enum class Err : uint16_t {
#define EC_ERROR(id, code, status, message) id,
#include "core/error_catalog.def"
#undef EC_ERROR
};

struct ErrorInfo {
  std::string_view code;  // stable, dotted: "auth.token_expired"
  int status;             // the HTTP status every answer with this code has
  std::string_view message;
};

namespace detail {
inline constexpr ErrorInfo kErrorCatalog[] = {
#define EC_ERROR(id, code, status, message) {code, status, message},
#include "core/error_catalog.def"
#undef EC_ERROR
};
}  // namespace detail

constexpr const ErrorInfo& error_info(Err e) {
  return detail::kErrorCatalog[static_cast<uint16_t>(e)];
}
constexpr std::string_view code_of(Err e) { return error_info(e).code; }
// The whole catalog, sorted by code (for tests and generated documentation).
constexpr std::span<const ErrorInfo> error_catalog() { return detail::kErrorCatalog; }

struct ApiError {
  int status = 500;
  std::string code;       // stable, dotted: "auth.token_expired"
  std::string message;    // human-readable, never contains secrets
  json fields = nullptr;  // field-level detail for validation errors: {"username": "too short"}
  std::string detail;     // for the log line only (e.g. an upstream's own error text); never sent

  bool is(Err e) const { return code == code_of(e); }
};

// The catalog's status, code and default message.
inline ApiError api_error(Err e) {
  const ErrorInfo& i = error_info(e);
  return ApiError{i.status, std::string(i.code), std::string(i.message), nullptr, {}};
}

// The catalog's status and code with a message that says more than the default.
inline ApiError api_error(Err e, std::string message) {
  const ErrorInfo& i = error_info(e);
  return ApiError{i.status, std::string(i.code), std::move(message), nullptr, {}};
}

// A minimal expected<T, ApiError>. Only value()/error() on the right alternative are valid;
// callers check ok() first (the accessors assert in debug builds).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}     // NOLINT(implicit)
  Result(ApiError err) : v_(std::in_place_index<1>, std::move(err)) {}  // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return *std::get_if<0>(&v_); }
  const T& value() const { return *std::get_if<0>(&v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const ApiError& error() const { return *std::get_if<1>(&v_); }
  ApiError take_error() { return std::move(*std::get_if<1>(&v_)); }

 private:
  std::variant<T, ApiError> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace ec
