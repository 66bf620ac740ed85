// Canonical API keys API: /api/v1/api-keys. The key itself appears only in the 201 of its
// creation; lists show its prefix.
#include "api/caller.hpp"
#include "api/gateway.hpp"
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
  const User& user = signed_in(call);
  Result<std::vector<ApiKeyRecord>> keys = co_await list_api_keys(call.ctx, user.id);
  if (!keys.ok()) co_return keys.take_error();
  json items = json::array();
  for (const ApiKeyRecord& k : keys.value()) items.push_back(api_key_json(k));
  co_return json_reply(200, {{"apiKeys", items}});
}

// Minting and revoking keys needs an access token, i.e. someone who signed in: an API key must
// not mint more API keys (a leaked key could otherwise outlive its own revocation through keys it
// made) nor revoke the account's other keys. Both answer 403 auth.api_key_not_allowed.
Task<Result<Response>> do_create(Call& call) {
  const User& user = signed_in(call);
  // A guest account is throwaway and has no password to come back with; a long-lived key would
  // make it permanent.
  if (user.is_guest) {
    co_return api_error(Err::auth_guest_not_allowed);
  }
  std::optional<int64_t> days = get_int(call.body, "expiresInDays");
  Result<NewApiKey> k =
      co_await create_api_key(call.ctx, user.id, string_or(call.body, "name", ""), days);
  if (!k.ok()) co_return k.take_error();
  json body = api_key_json(k.value().record);
  body["key"] = k.value().key;
  Response r = json_reply(201, {{"apiKey", body}});
  r.headers.emplace_back("location", "/api/v1/api-keys/" + k.value().record.id);
  co_return r;
}

Task<Result<Response>> do_delete(Call& call) {
  const User& user = signed_in(call);
  Status s = co_await revoke_api_key(call.ctx, user.id, *call.param("id"));
  if (!s.ok()) co_return s.take_error();
  co_return no_content(204);
}

}  // namespace

bool add_api_key_routes(HttpApp& app) {
  // Managing credentials takes a signed-in person's access token, never an API key.
  return add_routes(
      app, {
               get("/api/v1/api-keys", do_list)
                   .user()
                   .doc("List your API keys (prefixes only)", {"API keys"})
                   .answers(200, "ApiKeyList")
                   .errors({"storage.unavailable"}),
               post("/api/v1/api-keys", do_create)
                   .access_token()
                   .json(kCreateApiKeySchema)
                   .secret()
                   .doc("Create an API key (the key is shown only in this answer)", {"API keys"})
                   .answers(201, "NewApiKeyEnvelope")
                   .errors({"auth.guest_not_allowed", "api_keys.limit_reached",
                            "storage.unavailable", "storage.conflict"}),
               del("/api/v1/api-keys/:id", do_delete)
                   .access_token()
                   .owns("api_key")
                   .doc("Revoke an API key", {"API keys"})
                   .answers(204, "")
                   .errors({"api_keys.not_found", "storage.unavailable"}),
           });
}

}  // namespace ec
