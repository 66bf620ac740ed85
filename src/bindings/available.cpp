#include "bindings/available.hpp"

namespace ec {

bool has_binding(const Ctx& ctx, std::string_view name) {
  std::string_view list = ctx.env("EDGECHAT_BINDINGS");
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (list.substr(0, comma) == name) return true;
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return false;
}

}  // namespace ec
