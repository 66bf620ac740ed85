#include "api/openapi.hpp"

#ifdef EDGECHAT_DESCRIBE

#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "http/describe.hpp"

#include <map>
#include <set>

namespace ec {

namespace {

std::string_view access_name(Access a) {
  switch (a) {
    case Access::kPublic:
      return "public";
    case Access::kOptional:
      return "optional";
    case Access::kUser:
      return "user";
    case Access::kAccessToken:
      return "access_token";
    case Access::kAdmin:
      return "admin";
    case Access::kUserOrAdmin:
      return "user_or_admin";
    case Access::kInternal:
      return "internal";
    case Access::kPresigned:
      return "presigned_or_user";
    case Access::kLenient:
      return "lenient";
    case Access::kUndeclared:
      break;
  }
  return "undeclared";
}

// Security requirement alternatives (security schemes in document.json).
json security_of(Access a) {
  const json bearer = {{"bearerAuth", json::array()}};
  const json api_key = {{"apiKeyAuth", json::array()}};
  const json admin = {{"adminKey", json::array()}};
  switch (a) {
    case Access::kPublic:
      return json::array();
    case Access::kOptional:
    case Access::kLenient:
      return json::array({json::object(), bearer, api_key});
    case Access::kUser:
      return json::array({bearer, api_key});
    case Access::kAccessToken:
      return json::array({bearer});
    case Access::kAdmin:
      return json::array({admin});
    case Access::kUserOrAdmin:
      return json::array({bearer, api_key, admin});
    case Access::kInternal:
      return json::array({{{"internalToken", json::array()}}});
    case Access::kPresigned:
      return json::array({bearer, api_key, {{"presignedUrl", json::array()}}});
    case Access::kUndeclared:
      break;
  }
  return json::array();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// "get" + "/api/v1/chats/:id/messages" → "getApiV1ChatsByIdMessages": stable and unique, since
// (method, pattern) is.
std::string operation_id(const RouteDef& def) {
  std::string id = lower(method_name(def.method));
  bool upper = true;
  std::string_view p = def.pattern;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '/' || c == '-' || c == '_' || c == '.') {
      upper = true;
      continue;
    }
    if (c == ':') {
      id += "By";
      upper = true;
      continue;
    }
    if (c == '*') {
      id += "Rest";
      continue;
    }
    id += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return id;
}

json ref(std::string_view name) { return {{"$ref", "#/components/schemas/" + std::string(name)}}; }

std::string reason(int status) {
  static const std::map<int, std::string_view> kReasons = {{200, "OK"},
                                                           {201, "Created"},
                                                           {202, "Accepted"},
                                                           {204, "No Content"},
                                                           {206, "Partial Content"},
                                                           {304, "Not Modified"},
                                                           {400, "Bad Request"},
                                                           {401, "Unauthorized"},
                                                           {402, "Payment Required"},
                                                           {403, "Forbidden"},
                                                           {404, "Not Found"},
                                                           {405, "Method Not Allowed"},
                                                           {409, "Conflict"},
                                                           {410, "Gone"},
                                                           {413, "Content Too Large"},
                                                           {415, "Unsupported Media Type"},
                                                           {416, "Range Not Satisfiable"},
                                                           {422, "Unprocessable Content"},
                                                           {429, "Too Many Requests"},
                                                           {499, "Client Closed Request"},
                                                           {500, "Internal Server Error"},
                                                           {501, "Not Implemented"},
                                                           {502, "Bad Gateway"},
                                                           {503, "Service Unavailable"},
                                                           {504, "Gateway Timeout"}};
  auto it = kReasons.find(status);
  return it == kReasons.end() ? "Status " + std::to_string(status) : std::string(it->second);
}

// The error answer for one status: the route's error envelope, and the codes it can answer with
// that status in x-error-codes (and the description), so a contract test catches an undeclared
// code too. (Narrowing `code` with an allOf per response made Swagger UI stall after 9 of 148
// operations.)
json error_response(ErrorStyle style, int status, const std::set<std::string>& codes) {
  json list = json::array();
  std::string text = reason(status) + ": ";
  bool first = true;
  for (const std::string& c : codes) {
    list.push_back(c);
    text += (first ? "`" : ", `") + c + "`";
    first = false;
  }
  const std::string_view envelope = style == ErrorStyle::kSeed000 ? "Seed000Error" : "Error";
  return {{"description", text},
          {"x-error-codes", list},
          {"content", {{"application/json", {{"schema", ref(envelope)}}}}}};
}

json path_parameter(const std::string& name) {
  json p = {{"name", name},
            {"in", "path"},
            {"required", true},
            {"schema", {{"type", "string"}, {"minLength", 1}, {"maxLength", 256}}}};
  if (name == "id") p["description"] = "The resource's id";
  return p;
}

}  // namespace

json openapi_document(const HttpApp& app, const OpenApiSources& sources,
                      std::vector<std::string>& problems) {
  std::map<std::string, const ErrorInfo*> catalog;
  for (const ErrorInfo& e : error_catalog()) catalog[std::string(e.code)] = &e;

  std::set<std::string> known_tags;
  if (const json* tags = find(sources.document, "tags"); tags && tags->is_array()) {
    for (const json& t : *tags) known_tags.insert(string_or(t, "name", ""));
  }

  json paths = json::object();
  for (const RouteDef& def : app.routes()) {
    const std::string where = std::string(method_name(def.method)) + " " + std::string(def.pattern);
    json op = json::object();
    op["operationId"] = operation_id(def);
    if (def.summary.empty()) problems.push_back(where + ": no summary (.doc)");
    op["summary"] = def.summary;
    if (!def.description.empty()) op["description"] = def.description;
    if (def.tags.empty()) problems.push_back(where + ": no tags (.doc)");
    json tags = json::array();
    for (std::string_view t : def.tags) {
      if (!known_tags.count(std::string(t))) {
        problems.push_back(where + ": tag \"" + std::string(t) + "\" is not in document.json");
      }
      tags.push_back(t);
    }
    op["tags"] = tags;
    op["security"] = security_of(def.access);
    op["x-edgechat-access"] = access_name(def.access);
    op["x-edgechat-rate-group"] = def.rate_group.empty() ? "exempt" : def.rate_group;
    if (!def.owner.empty()) op["x-edgechat-owner"] = def.owner;

    json params = json::array();
    for (const std::string& name : path_param_names(def.pattern))
      params.push_back(path_parameter(name));
    if (def.query_schema != nullptr) {
      for (const Field& f : *def.query_schema) {
        json p = {{"name", f.name()}, {"in", "query"}, {"schema", field_schema(f)}};
        if (f.is_required()) p["required"] = true;
        if (!f.description().empty()) p["description"] = f.description();
        params.push_back(p);
      }
    }
    const bool write = def.method == Method::Post || def.method == Method::Put ||
                       def.method == Method::Patch || def.method == Method::Delete;
    if (write) params.push_back({{"$ref", "#/components/parameters/IdempotencyKey"}});
    if (!params.empty()) op["parameters"] = params;

    if (def.body != BodyKind::kNone) {
      json schema =
          def.schema ? object_schema(*def.schema, def.strict_body) : json{{"type", "object"}};
      op["requestBody"] = {{"required", def.body == BodyKind::kJson},
                           {"content", {{"application/json", {{"schema", schema}}}}}};
    } else if (!def.request_media.empty()) {
      op["requestBody"] = {
          {"required", true},
          {"content",
           {{std::string(def.request_media),
             {{"schema", {{"type", "string"}, {"contentMediaType", def.request_media}}}}}}}};
    }

    json responses = json::object();
    if (def.answer_list.empty()) problems.push_back(where + ": no answers (.answers)");
    for (const Answer& a : def.answer_list) {
      const std::string key = std::to_string(a.status);
      json& r = responses[key];
      if (!r.is_object()) r = {{"description", reason(a.status)}};
      if (a.schema.empty()) continue;
      if (!find(sources.components, a.schema)) {
        problems.push_back(where + ": answer schema \"" + std::string(a.schema) + "\" is unknown");
      }
      r["content"][std::string(a.media)] = {{"schema", ref(a.schema)}};
    }

    // Errors: the gateway's, then the handler's, grouped by status.
    std::map<int, std::set<std::string>> by_status;
    std::vector<std::string_view> codes = gateway_error_codes(def);
    codes.insert(codes.end(), def.error_codes.begin(), def.error_codes.end());
    for (std::string_view c : codes) {
      auto it = catalog.find(std::string(c));
      if (it == catalog.end()) {
        problems.push_back(where + ": error code \"" + std::string(c) + "\" is not in the catalog");
        continue;
      }
      by_status[it->second->status].insert(std::string(c));
    }
    for (const auto& [status, set] : by_status) {
      const std::string key = std::to_string(status);
      if (responses.contains(key)) {
        problems.push_back(where + ": status " + key + " is both an answer and an error");
        continue;
      }
      responses[key] = error_response(def.style, status, set);
    }
    op["responses"] = responses;

    json& item = paths[openapi_path(def.pattern)];
    item[lower(method_name(def.method))] = op;
  }

  json doc = sources.document;
  doc["openapi"] = "3.1.0";
  doc["info"]["version"] = kVersion;
  doc["paths"] = paths;
  json& components = doc["components"];
  for (const auto& [name, schema] : sources.components.items())
    components["schemas"][name] = schema;
  // Every code the API can answer, for clients that switch on them (the README's table too).
  json codes = json::array();
  for (const ErrorInfo& e : error_catalog()) codes.push_back(e.code);
  components["schemas"]["ErrorCode"] = {
      {"type", "string"},
      {"description",
       "Every error code the API answers (x-error-catalog gives statuses and messages)"},
      {"enum", codes}};
  json catalog_list = json::array();
  for (const ErrorInfo& e : error_catalog()) {
    catalog_list.push_back({{"code", e.code}, {"status", e.status}, {"message", e.message}});
  }
  doc["x-error-catalog"] = catalog_list;
  return doc;
}

}  // namespace ec

#endif
