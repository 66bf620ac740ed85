// Errors are values: the core is built with -fno-exceptions (Debian's wasm32 libc++abi has no EH
// runtime), so every fallible operation returns Result<T> and every user-facing failure is an
// ApiError that already knows its HTTP status and stable code.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ec {

using json = nlohmann::json;

struct ApiError {
  int status = 500;
  std::string code;       // stable, dotted: "auth.token_expired"
  std::string message;    // human-readable, never contains secrets
  json fields = nullptr;  // field-level detail for validation errors: {"username": "too short"}
  std::string detail;     // for the log line only (e.g. an upstream's own error text); never sent
};

inline ApiError api_error(int status, std::string code, std::string message) {
  return ApiError{status, std::move(code), std::move(message), nullptr, {}};
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
