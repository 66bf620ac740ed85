#include "auth/users.hpp"

#include "core/json.hpp"
#include "core/time.hpp"

namespace ec {

std::optional<User> user_from_row(const json& row) {
  const std::string* id = get_string(row, "id");
  const std::string* username = get_string(row, "username");
  if (id == nullptr || username == nullptr) return std::nullopt;
  User u;
  u.id = *id;
  u.username = *username;
  u.email = string_or(row, "email", "");
  u.role = string_or(row, "role", "user");
  u.is_guest = get_int(row, "is_guest").value_or(0) != 0;
  u.disabled = get_int(row, "disabled_at").has_value();
  u.created_at_ms = get_int(row, "created_at").value_or(0);
  return u;
}

json user_json(const User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"email", u.email.empty() ? json(nullptr) : json(u.email)},
          {"role", u.role},
          {"isGuest", u.is_guest},
          {"createdAt", iso8601_ms(u.created_at_ms)}};
}

ApiError user_disabled_error() { return api_error(Err::auth_user_disabled); }

}  // namespace ec
