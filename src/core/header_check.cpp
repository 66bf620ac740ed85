#include "core/header_check.hpp"

#include "core/json.hpp"

namespace ec {

namespace {

// RFC 9110 §5.6.2 tchar.
bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

constexpr size_t kLoggedNameBytes = 64;

std::string loggable_name(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size() && i < kLoggedNameBytes; ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    out.push_back(is_tchar(c) ? static_cast<char>(c) : '?');
  }
  if (name.size() > kLoggedNameBytes) out += "...";
  return out;
}

}  // namespace

bool valid_header_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxHeaderNameBytes) return false;
  for (char c : name) {
    if (!is_tchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool valid_header_value(std::string_view value) {
  if (value.size() > kMaxHeaderValueBytes) return false;
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c != '\t' && (c < 0x20 || c > 0x7E)) return false;
  }
  return true;
}

std::vector<std::string> drop_invalid_headers(HeaderList& headers) {
  std::vector<std::string> dropped;
  size_t kept = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (valid_header_name(headers[i].first) && valid_header_value(headers[i].second)) {
      if (kept != i) headers[kept] = std::move(headers[i]);
      ++kept;
    } else {
      dropped.push_back(loggable_name(headers[i].first));
    }
  }
  headers.resize(kept);
  return dropped;
}

void note_dropped_headers(std::string& log_line, const std::vector<std::string>& dropped) {
  if (dropped.empty()) return;
  std::optional<json> parsed = parse_json(log_line, 8);
  json line = parsed && parsed->is_object() ? std::move(*parsed) : json{{"msg", "response"}};
  line["level"] = "error";
  line["droppedHeaders"] = dropped;
  log_line = dump_json(line);
}

}  // namespace ec
