// Canonical API keys API: /api/v1/api-keys. The key itself appears only in the 201 of its
// creation; lists show its prefix.
#include "api/routes.hpp"
#include "auth/api_keys.hpp"
#include "auth/service.hpp"

namespace ec {

namespace {

const Schema kCreateApiKeySchema = {
    field("name").string().required().length(1, 100),
    field("expiresInDays").integer().min(1).max(3650).nullable(),
};

Task<Result<Response>> do_list(Call& call) {
  // Listing shows no secrets, so an API key may do it too.
  Result<User> u = co_await authenticate(call.ctx);
  if (!u.ok()) co_return u.take_error();
  Result<std::vector<ApiKeyRecord>> keys = co_await list_api_keys(call.ctx, u.value().id);
  if (!keys.ok()) co_return keys.take_error();
  json items = json::array();
  for (const ApiKeyRecord& k : keys.value()) items.push_back(api_key_json(k));
  co_return json_reply(200, {{"apiKeys", items}});
}

// Minting and revoking keys needs an access token, i.e. someone who signed in: an API key must
// not mint more API keys (a leaked key could otherwise outlive its own revocation through keys it
// made) nor revoke the account's other keys. Both answer 403 auth.api_key_not_allowed.
Task<Result<Response>> do_create(Call& call) {
  Result<User> u = co_await authenticate_access_token(call.ctx);
  if (!u.ok()) co_return u.take_error();
  // A guest account is throwaway and has no password to come back with; a long-lived key would
  // make it permanent.
  if (u.value().is_guest) {
    co_return api_error(Err::auth_guest_not_allowed);
  }
  std::optional<int64_t> days = get_int(call.body, "expiresInDays");
  Result<NewApiKey> k =
      co_await create_api_key(call.ctx, u.value().id, string_or(call.body, "name", ""), days);
  if (!k.ok()) co_return k.take_error();
  json body = api_key_json(k.value().record);
  body["key"] = k.value().key;
  Response r = json_reply(201, {{"apiKey", body}});
  r.headers.emplace_back("location", "/api/v1/api-keys/" + k.value().record.id);
  co_return r;
}

Task<Result<Response>> do_delete(Call& call) {
  Result<User> u = co_await authenticate_access_token(call.ctx);
  if (!u.ok()) co_return u.take_error();
  Status s = co_await revoke_api_key(call.ctx, u.value().id, *call.param("id"));
  if (!s.ok()) co_return s.take_error();
  co_return no_content(204);
}

}  // namespace

bool add_api_key_routes(HttpApp& app) {
  const RouteDef routes[] = {
      {Method::Get, "/api/v1/api-keys", do_list},
      {Method::Post, "/api/v1/api-keys", do_create, BodyKind::kJson, &kCreateApiKeySchema,
       ErrorStyle::kCanonical, 0, kRateDefault, /*issues_secret=*/true},
      {Method::Delete, "/api/v1/api-keys/:id", do_delete},
  };
  for (const RouteDef& r : routes) {
    if (!app.add(r)) return false;
  }
  return true;
}

}  // namespace ec
