// Users as the API shows them, and the D1 rows behind them.
#pragma once

#include "core/error.hpp"

#include <optional>
#include <string>

namespace ec {

struct User {
  std::string id;
  std::string username;
  std::string email;  // empty when none
  std::string role;   // user | guest | admin
  bool is_guest = false;
  bool disabled = false;
  int64_t created_at_ms = 0;
};

// From a D1 row with columns id, username, email, role, is_guest, disabled_at, created_at.
std::optional<User> user_from_row(const json& row);
// The public representation: never includes the password hash.
json user_json(const User& u);
// 403 auth.user_disabled: the one answer for a disabled account, whatever credential it presented.
ApiError user_disabled_error();

inline constexpr std::string_view kUserColumns =
    "u.id, u.username, u.email, u.role, u.is_guest, u.disabled_at, u.created_at";

}  // namespace ec
