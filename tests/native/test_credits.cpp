// Credits and usage through the FakeHost (real SQLite D1): grants on first use, debits guarded
// so a balance never goes below zero, the append-only ledger always summing to the balance,
// reservations for answers, the admin routes and the usage report.
#include "billing/credit_amount.hpp"
#include "support/accounts.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

using namespace ec;
using ec::testing::Account;
using ec::testing::FakeHost;
using ec::testing::HttpResult;
using ec::testing::json;
using ec::testing::sign_up;

namespace {

constexpr const char* kAdminKey = "test-admin-key-0123456789";

std::map<std::string, std::string> billing_env() {
  auto env = FakeHost::default_env();
  env["ADMIN_KEY"] = kAdminKey;
  // Prices that make arithmetic easy: 1 credit per 1k tokens in, 2 out.
  env["MODELS"] =
      R"([{"provider":"openai","model":"gpt-test","priceInPer1k":1,"priceOutPer1k":2},)"
      R"({"provider":"local","model":"edgechat-extractive-v1","priceInPer1k":0.5,"priceOutPer1k":1}])";
  return env;
}

std::string code_of(const HttpResult& r) { return r.body_json["error"]["code"].get<std::string>(); }

HttpResult admin(FakeHost& h, const std::string& method, const std::string& path,
                 const json& body = nullptr, const std::string& key = kAdminKey) {
  ec::testing::Headers hs{{"x-admin-key", key}};
  if (!body.is_null()) hs.emplace_back("content-type", "application/json");
  return h.request(method, path, hs, body.is_null() ? "" : body.dump());
}

HttpResult record(FakeHost& h, const Account& a, int64_t in, int64_t out,
                  const std::string& idem = "") {
  ec::testing::Headers hs{{"authorization", "Bearer " + a.token},
                          {"content-type", "application/json"}};
  if (!idem.empty()) hs.emplace_back("idempotency-key", idem);
  json body = {{"provider", "openai"}, {"model", "gpt-test"}, {"tokensIn", in}, {"tokensOut", out}};
  return h.request("POST", "/api/v1/billing/usage", hs, body.dump());
}

// The ledger invariant: every row's delta sums to the balance, and balance_after chains.
void check_ledger(FakeHost& h, const std::string& user) {
  json sum = h.query("SELECT COALESCE(SUM(delta), 0) AS s FROM credit_ledger WHERE user_id = '" +
                     user + "'")[0];
  json bal = h.query("SELECT balance FROM credit_accounts WHERE user_id = '" + user + "'")[0];
  CHECK(sum["s"] == bal["balance"]);
  CHECK(bal["balance"].get<int64_t>() >= 0);
}

std::string login(FakeHost& h, const std::string& name) {
  HttpResult r = h.post("/api/v1/auth/login", {{"username", name}, {"password", "long enough pw"}});
  REQUIRE(r.status == 200);
  return r.body_json["accessToken"].get<std::string>();
}

}  // namespace

TEST_CASE("credit amounts: parsed exactly, printed plainly, prices rounded up") {
  CHECK(parse_credit_amount(json(2), false) == 2'000'000);
  CHECK(parse_credit_amount(json("0.000075"), false) == 75);
  CHECK(parse_credit_amount(json(0.5), false) == 500'000);
  CHECK(parse_credit_amount(json("-1.25"), true) == -1'250'000);
  CHECK_FALSE(parse_credit_amount(json("-1.25"), false));
  CHECK_FALSE(parse_credit_amount(json("1.0000001"), false));
  CHECK_FALSE(parse_credit_amount(json(0.0000001), false));
  CHECK_FALSE(parse_credit_amount(json("1."), false));
  CHECK_FALSE(parse_credit_amount(json("abc"), false));
  CHECK_FALSE(parse_credit_amount(json(true), false));
  CHECK_FALSE(parse_credit_amount(json(1e300), false));
  CHECK_FALSE(parse_credit_amount(json("99999999999999"), false));
  CHECK(format_credits(1'500'000) == "1.5");
  CHECK(format_credits(75) == "0.000075");
  CHECK(format_credits(-2'000'000) == "-2");
  CHECK(format_credits(0) == "0");
  // 0.00015 credits per 1k tokens × 500 tokens = 0.000075; one token at that price rounds up.
  CHECK(token_price_micros(0.00015, 500) == 75);
  CHECK(token_price_micros(0.00015, 1) == 1);
  CHECK(token_price_micros(0, 1000) == 0);
  CHECK(token_price_micros(1, -5) == 0);
  CHECK(token_price_micros(1e9, kMaxTokens * 10) == kMaxCreditMicros);
}

TEST_CASE("credits: an account starts with its grant, and a debit takes the model's price") {
  FakeHost h(billing_env());
  Account a = sign_up(h, "alice");
  HttpResult b = h.get("/api/credits", a.token);
  REQUIRE(b.status == 200);
  CHECK(b.body_json["balance"] == 10);
  CHECK(*b.header("x-credits-balance") == "10");
  HttpResult g = h.post("/api/v1/auth/guest", json::object());
  REQUIRE(g.status == 201);
  CHECK(h.get("/api/v1/credits", g.body_json["accessToken"].get<std::string>())
            .body_json["balance"] == 1);

  // 1000 in at 1/1k + 500 out at 2/1k = 2 credits.
  HttpResult d = record(h, a, 1000, 500);
  REQUIRE(d.status == 201);
  CHECK(d.body_json["credits"] == 2);
  CHECK(d.body_json["balance"] == 8);
  CHECK(*d.header("x-credits-used") == "2");
  CHECK(*d.header("x-credits-balance") == "8");
  CHECK(*d.header("x-tokens-in") == "1000");
  CHECK(*d.header("x-tokens-out") == "500");
  CHECK(*d.header("x-provider") == "openai");
  CHECK(*d.header("x-model") == "gpt-test");
  check_ledger(h, a.id);

  // An unknown model of a known provider costs that provider's dearest price, never 0.
  ec::testing::Headers hs{{"authorization", "Bearer " + a.token},
                          {"content-type", "application/json"}};
  HttpResult unknown = h.request(
      "POST", "/api/billing/usage", hs,
      json{{"provider", "openai"}, {"model", "no-such"}, {"tokensIn", 1000}, {"tokensOut", 0}}
          .dump());
  REQUIRE(unknown.status == 201);
  CHECK(unknown.body_json["credits"].get<double>() >= 1.0);
  check_ledger(h, a.id);
}

TEST_CASE("credits: a debit the balance cannot cover is 402 and changes nothing") {
  FakeHost h(billing_env());
  Account a = sign_up(h, "bob");
  HttpResult big = record(h, a, 11'000, 0);  // 11 credits > 10
  REQUIRE(big.status == 402);
  CHECK(code_of(big) == "credits.insufficient");
  CHECK(big.body_json["error"]["fields"]["balance"] == 10);
  CHECK(h.query("SELECT COUNT(*) AS n FROM usage_events")[0]["n"] == 0);
  CHECK(h.query("SELECT COUNT(*) AS n FROM credit_ledger WHERE kind <> 'grant'")[0]["n"] == 0);
  // Exactly the balance is fine, and then nothing more is.
  REQUIRE(record(h, a, 10'000, 0).status == 201);
  CHECK(h.get("/api/credits", a.token).body_json["balance"] == 0);
  CHECK(record(h, a, 1, 0).status == 402);
  CHECK(record(h, a, 0, 0).status == 201);  // a free call is metered
  check_ledger(h, a.id);
}

TEST_CASE("credits: the ledger refuses edits and deletes") {
  FakeHost h(billing_env());
  Account a = sign_up(h, "carol");
  REQUIRE(h.get("/api/credits", a.token).status == 200);
  char* err = nullptr;
  CHECK(sqlite3_exec(h.db(), "UPDATE credit_ledger SET delta = 1000000000", nullptr, nullptr,
                     &err) != SQLITE_OK);
  sqlite3_free(err);
  CHECK(sqlite3_exec(h.db(), "DELETE FROM credit_ledger", nullptr, nullptr, &err) != SQLITE_OK);
  sqlite3_free(err);
  CHECK(sqlite3_exec(h.db(), "UPDATE credit_accounts SET balance = -1", nullptr, nullptr, &err) !=
        SQLITE_OK);
  sqlite3_free(err);
  check_ledger(h, a.id);
}

TEST_CASE("admin credits: the key is required and checked; adjust and set keep the ledger") {
  FakeHost h(billing_env());
  Account a = sign_up(h, "dave");
  json body = {{"userId", a.id}, {"amount", 5}, {"reason", "promo"}};
  HttpResult none = h.post("/api/credits/adjust", body, a.token);
  CHECK(none.status == 401);
  CHECK(code_of(none) == "admin.key_required");
  HttpResult wrong = admin(h, "POST", "/api/credits/adjust", body, "not-the-admin-key-at-all");
  CHECK(wrong.status == 403);
  CHECK(code_of(wrong) == "admin.key_invalid");
  CHECK(admin(h, "POST", "/api/credits/adjust", body, std::string(kAdminKey) + "x").status == 403);

  HttpResult up = admin(h, "POST", "/api/credits/adjust", body);
  REQUIRE(up.status == 200);
  CHECK(up.body_json["balance"] == 15);
  CHECK(up.body_json["delta"] == 5);
  HttpResult by_name =
      admin(h, "POST", "/api/v1/credits/adjust", {{"username", "DAVE"}, {"amount", "-0.5"}});
  REQUIRE(by_name.status == 200);
  CHECK(by_name.body_json["balance"] == 14.5);
  HttpResult set =
      admin(h, "POST", "/api/admin/users/" + a.id + "/credits", {{"amount", 3}, {"set", true}});
  REQUIRE(set.status == 200);
  CHECK(set.body_json["balance"] == 3);
  CHECK(set.body_json["delta"] == -11.5);
  HttpResult under = admin(h, "POST", "/api/credits/adjust", {{"userId", a.id}, {"amount", -4}});
  CHECK(under.status == 422);
  CHECK(code_of(under) == "credits.would_go_negative");
  CHECK(admin(h, "POST", "/api/credits/adjust", {{"userId", "usr_nope"}, {"amount", 1}}).status ==
        404);
  CHECK(admin(h, "POST", "/api/credits/adjust", {{"amount", 1}}).status == 400);
  CHECK(admin(h, "POST", "/api/credits/adjust", {{"userId", a.id}, {"amount", "lots"}}).status ==
        400);
  CHECK(admin(h, "POST", "/api/credits/adjust", {{"userId", a.id}, {"amount", -1}, {"set", true}})
            .status == 400);
  check_ledger(h, a.id);
  json kinds = h.query("SELECT kind FROM credit_ledger WHERE user_id = '" + a.id +
                       "' ORDER BY created_at, kind");
  CHECK(kinds.size() == 4);  // grant + three adjustments (the refused ones left no row)

  // Without ADMIN_KEY configured nothing opens the admin routes.
  FakeHost closed;
  HttpResult off = admin(closed, "POST", "/api/credits/adjust", body);
  CHECK(off.status == 403);
  CHECK(code_of(off) == "admin.disabled");
}

TEST_CASE("idempotency: a repeat replays, a different body is 422, a running one is 409") {
  FakeHost h(billing_env());
  Account a = sign_up(h, "erin");
  HttpResult first = record(h, a, 1000, 0, "key-1");
  REQUIRE(first.status == 201);
  HttpResult again = record(h, a, 1000, 0, "key-1");
  REQUIRE(again.status == 201);
  CHECK(again.body == first.body);
  CHECK(*again.header("idempotent-replayed") == "true");
  CHECK(*again.header("x-credits-used") == "1");
  CHECK(h.get("/api/credits", a.token).body_json["balance"] == 9);  // charged once
  CHECK(h.query("SELECT COUNT(*) AS n FROM usage_events")[0]["n"] == 1);

  HttpResult other = record(h, a, 2000, 0, "key-1");
  CHECK(other.status == 422);
  CHECK(code_of(other) == "idempotency.key_reused");

  // Keys are per caller: another user's "key-1" is theirs alone.
  Account b = sign_up(h, "frank");
  CHECK(record(h, b, 1000, 0, "key-1").status == 201);
  CHECK(h.get("/api/credits", b.token).body_json["balance"] == 9);

  // A request still running under a key: a repeat is told to wait, until its lock lapses.
  h.query(
      "INSERT INTO idempotency_keys (scope, key, request_hash, state, locked_until, "
      "created_at, expires_at) SELECT 'u:" +
      a.id + "', 'key-2', request_hash, 'running', " +
      std::to_string(static_cast<int64_t>(h.now_ms) + 60'000) + ", 0, " +
      std::to_string(static_cast<int64_t>(h.now_ms) + 86'400'000) +
      " FROM idempotency_keys WHERE key = 'key-1' AND scope = 'u:" + a.id + "'");
  HttpResult busy = record(h, a, 1000, 0, "key-2");
  CHECK(busy.status == 409);
  CHECK(code_of(busy) == "idempotency.in_progress");
  h.advance_seconds(61);
  CHECK(record(h, a, 1000, 0, "key-2").status == 201);

  // "Try again" answers are not kept: after a 402 and a top-up, the same key runs.
  HttpResult broke = record(h, a, 100'000, 0, "key-3");
  CHECK(broke.status == 402);
  REQUIRE(admin(h, "POST", "/api/credits/adjust", {{"userId", a.id}, {"amount", 100}}).status ==
          200);
  CHECK(record(h, a, 100'000, 0, "key-3").status == 201);

  // A bad key is refused before anything runs.
  CHECK(record(h, a, 1, 0, std::string(256, 'k')).status == 400);
  CHECK(record(h, a, 1, 0, "has space").status == 400);
  // Reads ignore the header.
  ec::testing::Headers hs{{"authorization", "Bearer " + a.token}, {"idempotency-key", "x"}};
  CHECK(h.request("GET", "/api/credits", hs).header("idempotent-replayed") == nullptr);
  check_ledger(h, a.id);
}

TEST_CASE("idempotency: credentials are never kept, errors are, and anonymous keys are per IP") {
  FakeHost h(billing_env());
  ec::testing::Headers hs{{"content-type", "application/json"},
                          {"idempotency-key", "signup-1"},
                          {"cf-connecting-ip", "203.0.113.9"}};
  json body = {{"username", "gina"}, {"password", "long enough pw"}};
  HttpResult first = h.request("POST", "/api/v1/auth/register", hs, body.dump());
  REQUIRE(first.status == 201);
  // Tokens are shown once: the repeat is told the first succeeded, and nothing is kept in clear.
  HttpResult again = h.request("POST", "/api/v1/auth/register", hs, body.dump());
  CHECK(again.status == 409);
  CHECK(code_of(again) == "idempotency.not_replayable");
  CHECK(h.query("SELECT COUNT(*) AS n FROM users")[0]["n"] == 1);
  CHECK(h.query("SELECT body FROM idempotency_keys")[0]["body"].is_null());
  const std::string refresh = first.body_json["refreshToken"].get<std::string>();
  CHECK(h.query("SELECT * FROM idempotency_keys").dump().find(refresh) == std::string::npos);
  // The same for a new API key, shown once.
  ec::testing::Headers kh{
      {"content-type", "application/json"},
      {"authorization", "Bearer " + first.body_json["accessToken"].get<std::string>()},
      {"idempotency-key", "key-1"}};
  HttpResult k1 = h.request("POST", "/api/v1/api-keys", kh, json{{"name", "ci"}}.dump());
  REQUIRE(k1.status == 201);
  HttpResult k2 = h.request("POST", "/api/v1/api-keys", kh, json{{"name", "ci"}}.dump());
  CHECK(k2.status == 409);
  CHECK(h.query("SELECT COUNT(*) AS n FROM api_keys")[0]["n"] == 1);
  CHECK(h.query("SELECT * FROM idempotency_keys")
            .dump()
            .find(k1.body_json["apiKey"]["key"].get<std::string>()) == std::string::npos);
  hs[2].second = "203.0.113.10";
  HttpResult elsewhere = h.request("POST", "/api/v1/auth/register", hs, body.dump());
  CHECK(elsewhere.status == 409);  // ran: the username is taken
  HttpResult kept = h.request("POST", "/api/v1/auth/register", hs, body.dump());
  CHECK(kept.status == 409);
  CHECK(*kept.header("idempotent-replayed") == "true");
}

TEST_CASE("admin users: list, look up, disable everywhere at once, enable") {
  FakeHost h(billing_env());
  Account a = sign_up(h, "henry");
  h.advance_seconds(1);
  Account b = sign_up(h, "iris");
  CHECK(h.get("/api/admin/users").status == 401);
  HttpResult list = admin(h, "GET", "/api/admin/users?limit=1");
  REQUIRE(list.status == 200);
  REQUIRE(list.body_json["users"].size() == 1);
  CHECK(list.body_json["users"][0]["username"] == "iris");  // newest first
  std::string cursor = list.body_json["nextCursor"].get<std::string>();
  HttpResult page2 = admin(h, "GET", "/api/v1/admin/users?limit=1&cursor=" + cursor);
  REQUIRE(page2.status == 200);
  CHECK(page2.body_json["users"][0]["username"] == "henry");
  CHECK(page2.body_json["nextCursor"].is_null());
  CHECK(admin(h, "GET", "/api/admin/users?q=HEN").body_json["users"].size() == 1);
  CHECK(admin(h, "GET", "/api/admin/users?cursor=zz").status == 400);
  CHECK(admin(h, "GET", "/api/admin/users?disabled=maybe").status == 400);

  HttpResult off = admin(h, "PATCH", "/api/admin/users/" + a.id, {{"disabled", true}});
  REQUIRE(off.status == 200);
  CHECK(off.body_json["user"]["disabled"] == true);
  HttpResult me = h.get("/api/v1/auth/me", a.token);
  CHECK(me.status == 403);
  CHECK(code_of(me) == "auth.user_disabled");
  CHECK(h.get("/api/credits", a.token).status == 403);
  CHECK(h.query("SELECT COUNT(*) AS n FROM sessions WHERE user_id = '" + a.id +
                "' AND revoke_reason = 'disabled'")[0]["n"] == 1);
  CHECK(h.post("/api/v1/auth/login", {{"username", "henry"}, {"password", "long enough pw"}})
            .status == 403);
  CHECK(h.get("/api/credits", b.token).status == 200);  // nobody else is affected
  CHECK(admin(h, "GET", "/api/admin/users?disabled=true").body_json["users"].size() == 1);

  REQUIRE(admin(h, "PATCH", "/api/v1/admin/users/" + a.id, {{"disabled", false}}).status == 200);
  CHECK(h.post("/api/v1/auth/login", {{"username", "henry"}, {"password", "long enough pw"}})
            .status == 200);
  CHECK(admin(h, "PATCH", "/api/admin/users/usr_nope", {{"disabled", true}}).status == 404);
  CHECK(admin(h, "PATCH", "/api/admin/users/" + a.id, json::object()).status == 400);
  CHECK(admin(h, "GET", "/api/admin/users/" + b.id).body_json["user"]["username"] == "iris");
  CHECK(admin(h, "GET", "/api/admin/users/usr_nope").status == 404);
}

TEST_CASE("usage report: own usage, filters, daily aggregates, pages; admin sees everyone") {
  FakeHost h(billing_env());
  Account a = sign_up(h, "jane");
  Account b = sign_up(h, "kim");
  REQUIRE(record(h, a, 1000, 0).status == 201);
  h.advance_seconds(86'400);
  a.token = login(h, "jane");
  b.token = login(h, "kim");
  REQUIRE(record(h, a, 2000, 500).status == 201);
  REQUIRE(record(h, b, 1000, 0).status == 201);
  ec::testing::Headers hs{{"authorization", "Bearer " + a.token},
                          {"content-type", "application/json"}};
  REQUIRE(h.request("POST", "/api/billing/usage", hs,
                    json{{"provider", "local"},
                         {"model", "edgechat-extractive-v1"},
                         {"tokensIn", 1000},
                         {"tokensOut", 1000}}
                        .dump())
              .status == 201);

  HttpResult mine = h.get("/api/billing/usage?limit=2", a.token);
  REQUIRE(mine.status == 200);
  CHECK(mine.body_json["totals"]["calls"] == 3);
  CHECK(mine.body_json["totals"]["tokensIn"] == 4000);
  CHECK(mine.body_json["totals"]["credits"] == 1 + 3 + 1.5);
  CHECK(mine.body_json["daily"].size() == 3);  // two days; the second has two models
  CHECK(mine.body_json["events"].size() == 2);
  HttpResult rest =
      h.get("/api/billing/usage?limit=2&cursor=" + mine.body_json["nextCursor"].get<std::string>(),
            a.token);
  CHECK(rest.body_json["events"].size() == 1);
  CHECK(rest.body_json["nextCursor"].is_null());
  CHECK(h.get("/api/v1/billing/usage?model=gpt-test", a.token).body_json["totals"]["calls"] == 2);
  CHECK(h.get("/api/v1/billing/usage?provider=local", a.token).body_json["totals"]["calls"] == 1);

  HttpResult others = h.get("/api/billing/usage?userId=" + b.id, a.token);
  CHECK(others.status == 403);
  CHECK(h.get("/api/billing/usage?from=yesterday", a.token).status == 400);
  CHECK(h.get("/api/billing/usage?from=2030-01-02&to=2030-01-01", a.token).status == 400);
  CHECK(h.get("/api/billing/usage?limit=0", a.token).status == 400);
  CHECK(h.get("/api/billing/usage?cursor=abc", a.token).status == 400);
  CHECK(h.get("/api/billing/usage").status == 401);

  HttpResult all = admin(h, "GET", "/api/admin/usage");
  REQUIRE(all.status == 200);
  CHECK(all.body_json["totals"]["calls"] == 4);
  CHECK(admin(h, "GET", "/api/v1/admin/usage?userId=" + b.id).body_json["totals"]["calls"] == 1);
  CHECK(admin(h, "GET", "/api/billing/usage?userId=" + b.id).body_json["totals"]["calls"] == 1);
  // With the admin key, usage can be recorded for a named user, and must name one.
  HttpResult for_b = admin(h, "POST", "/api/billing/usage",
                           {{"userId", b.id},
                            {"provider", "openai"},
                            {"model", "gpt-test"},
                            {"tokensIn", 1000},
                            {"tokensOut", 0}});
  CHECK(for_b.status == 201);
  CHECK(admin(h, "POST", "/api/billing/usage",
              {{"provider", "openai"}, {"model", "gpt-test"}, {"tokensIn", 1}, {"tokensOut", 0}})
            .status == 400);
  CHECK(h.post("/api/billing/usage",
               {{"provider", "nope"}, {"model", "x"}, {"tokensIn", 1}, {"tokensOut", 0}}, a.token)
            .status == 400);
  CHECK(h.post("/api/billing/usage",
               {{"provider", "openai"}, {"model", "x"}, {"tokensIn", -1}, {"tokensOut", 0}},
               a.token)
            .status == 400);
}

TEST_CASE("answers: a priced answer reserves, settles the real price and meters the call") {
  FakeHost h(billing_env());
  Account a = sign_up(h, "lena");
  HttpResult r =
      h.post("/api/si/ask", {{"prompt", "What is edgechat?"}, {"provider", "local"}}, a.token);
  REQUIRE(r.status == 200);
  REQUIRE(r.header("x-credits-used") != nullptr);
  const int64_t in = std::stoll(*r.header("x-tokens-in"));
  const int64_t out = std::stoll(*r.header("x-tokens-out"));
  const int64_t price = token_price_micros(0.5, in) + token_price_micros(1, out);
  CHECK(*r.header("x-credits-used") == format_credits(price));
  CHECK(*r.header("x-credits-balance") == format_credits(10'000'000 - price));
  CHECK(*r.header("x-provider") == "local");
  json holds = h.query("SELECT amount, charged, settled_at FROM credit_holds");
  REQUIRE(holds.size() == 1);
  CHECK(holds[0]["charged"] == price);
  CHECK(holds[0]["amount"].get<int64_t>() >= price);
  CHECK_FALSE(holds[0]["settled_at"].is_null());
  json kinds =
      h.query("SELECT kind FROM credit_ledger WHERE user_id = '" + a.id + "' ORDER BY kind");
  CHECK(kinds.size() == 3);  // grant, hold, settle
  json ev = h.query("SELECT * FROM usage_events")[0];
  CHECK(ev["charged"] == price);
  CHECK(ev["cost"] == price);
  CHECK(ev["kind"] == "chat");
  CHECK(ev["route"] == "si.ask");
  check_ledger(h, a.id);

  // When the reservation cannot be covered, nothing runs.
  REQUIRE(admin(h, "POST", "/api/credits/adjust", {{"userId", a.id}, {"amount", 0}, {"set", true}})
              .status == 200);
  HttpResult broke =
      h.post("/api/si/ask", {{"prompt", "And again?"}, {"provider", "local"}}, a.token);
  CHECK(broke.status == 402);
  CHECK(code_of(broke) == "credits.insufficient");
  CHECK(h.query("SELECT COUNT(*) AS n FROM usage_events")[0]["n"] == 1);
  check_ledger(h, a.id);
}
