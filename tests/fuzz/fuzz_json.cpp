// Any bytes as a JSON request body: parse, validate against the register schema, and read fields
// through the checked getters. Invariant: no abort (nlohmann's unchecked get<T>() would be one).
#include "api/auth_schemas.hpp"
#include "core/json.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ec;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<json> j = parse_json(text, 64);
  if (!j) return 0;
  (void)validate(*j, kRegisterSchema, false);
  (void)validate(*j, kLoginSchema);
  for (const char* k : {"username", "password", "email", "refreshToken"}) {
    (void)get_string(*j, k);
    (void)get_int(*j, k);
    (void)get_number(*j, k);
    (void)get_bool(*j, k);
    (void)get_object(*j, k);
    (void)get_array(*j, k);
  }
  (void)dump_json(*j);
  return 0;
}
