// The API description of the http layer's declarations: a Field or Schema as JSON Schema 2020-12
// (what OpenAPI 3.1 uses) and a route pattern as an OpenAPI path. Native builds only
// (EDGECHAT_DESCRIBE): tools/openapi.cpp generates openapi.json from them, so the Worker's Wasm
// carries none of it.
#pragma once

#ifdef EDGECHAT_DESCRIBE

#include "http/validate.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ec {

// One field's value as JSON Schema: type, bounds (code points for strings, as validate() counts),
// charset as a pattern, email as format, one_of as enum, nullable as a ["T","null"] type.
json field_schema(const Field& f);

// A body schema as an object schema; `strict` forbids properties it does not list.
json object_schema(const Schema& schema, bool strict);

// "/api/v1/chats/:id" → "/api/v1/chats/{id}" ("*" → "{path}").
std::string openapi_path(std::string_view pattern);

// The names of a pattern's params, in order ("*" as "path").
std::vector<std::string> path_param_names(std::string_view pattern);

}  // namespace ec

#endif
