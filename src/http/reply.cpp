#include "http/reply.hpp"

#include "core/json.hpp"

namespace ec {

Response json_reply(int status, const json& body) {
  Response r;
  r.status = status;
  r.headers.reserve(6);
  r.headers.emplace_back("content-type", "application/json; charset=utf-8");
  r.body = dump_json(body);
  return r;
}

Response no_content(int status) {
  Response r;
  r.status = status;
  return r;
}

Response error_reply(const ApiError& e, std::string_view request_id, ErrorStyle style) {
  if (style == ErrorStyle::kSeed000) {
    json details = {{"code", e.code}};
    if (!e.fields.is_null()) details["fields"] = e.fields;
    // requestId beside seed 000's own fields: every error names its request, and its clients
    // ignore a field they do not know.
    return json_reply(e.status,
                      {{"error", e.message}, {"details", details}, {"requestId", request_id}});
  }
  json err = {{"code", e.code}, {"message", e.message}};
  if (!e.fields.is_null()) err["fields"] = e.fields;
  return json_reply(e.status, {{"error", err}, {"requestId", request_id}});
}

}  // namespace ec
