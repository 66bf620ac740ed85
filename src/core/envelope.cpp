#include "core/envelope.hpp"

#include "core/ascii.hpp"
#include "core/frame.hpp"

namespace ec {

namespace {
constexpr uint32_t kEnvelopeVersion = 1;
constexpr uint32_t kMaxHeaders = 256;

}  // namespace

const std::string* Envelope::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return &v;
  }
  return nullptr;
}

std::optional<Envelope> decode_envelope(std::string_view frame) {
  FrameReader r(frame);
  auto version = r.u32();
  if (!version || *version != kEnvelopeVersion) return std::nullopt;
  Envelope e;
  auto now = r.f64();
  auto random = r.str();
  auto method = r.str();
  auto path = r.str();
  auto query = r.str();
  auto count = r.u32();
  if (!now || !random || !method || !path || !query || !count || *count > kMaxHeaders) {
    return std::nullopt;
  }
  e.now_ms = *now;
  e.random = std::string(*random);
  e.method = std::string(*method);
  e.path = std::string(*path);
  e.query = std::string(*query);
  e.headers.reserve(*count);
  for (uint32_t i = 0; i < *count; ++i) {
    auto k = r.str();
    auto v = r.str();
    if (!k || !v) return std::nullopt;
    e.headers.emplace_back(std::string(*k), std::string(*v));
  }
  if (!r.at_end()) return std::nullopt;
  return e;
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (ascii_iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

const std::string* Response::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (ascii_iequals(k, lower_name)) return &v;
  }
  return nullptr;
}

}  // namespace ec
