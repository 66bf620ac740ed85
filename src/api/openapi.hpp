// openapi.json, derived from the route table: every route's declaration (http/pipeline.hpp
// RouteDef) plus what the gateway adds to each (api/gateway.cpp: the errors its access, body,
// rate-limit and Idempotency-Key policies can answer), with the component schemas and the document
// text kept as JSON under src/api/schemas/. Native builds only (EDGECHAT_DESCRIBE):
// tools/openapi.cpp writes the committed openapi.json, and `npm test` fails when the two differ.
#pragma once

#ifdef EDGECHAT_DESCRIBE

#include "http/pipeline.hpp"

#include <string>
#include <vector>

namespace ec {

struct OpenApiSources {
  json document;    // src/api/schemas/document.json: info, tags, security schemes
  json components;  // every other src/api/schemas/*.json, merged: name → JSON Schema
};

// The OpenAPI 3.1 document for `app`'s routes. Every inconsistency (a route without a summary or
// tags, an unknown tag, schema or error code, an answer status that is also an error status) is
// appended to `problems`; the document is only meant to be used when there are none.
json openapi_document(const HttpApp& app, const OpenApiSources& sources,
                      std::vector<std::string>& problems);

}  // namespace ec

#endif
