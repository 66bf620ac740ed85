#include "http/request_id.hpp"

#include "crypto/encoding.hpp"

namespace ec {

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string make_request_id(std::string_view random16) { return hex_encode(random16); }

}  // namespace ec
