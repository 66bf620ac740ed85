// Presigned upload grants through the FakeHost: the worker-signed URL verifies against the secret
// the core generated and kept in D1, and with R2 API credentials a SigV4 URL for R2's S3 endpoint
// comes too. (Uploads and downloads themselves run against real R2 in tests/integration.)
#include "files/presign.hpp"
#include "http/url.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

using namespace ec;
using ec::testing::FakeHost;
using ec::testing::HttpResult;
using ec::testing::json;

namespace {

std::string token_for(FakeHost& h, const std::string& name) {
  HttpResult r =
      h.post("/api/v1/auth/register", {{"username", name}, {"password", "long enough pw"}});
  REQUIRE(r.status == 201);
  return r.body_json["accessToken"].get<std::string>();
}

}  // namespace

TEST_CASE("upload-url grants verify with the generated secret, which is created once", "[files]") {
  FakeHost h;
  std::string t = token_for(h, "gina");
  HttpResult r = h.post("/api/r2/upload-url",
                        {{"filename", "../Report Q1.pdf"}, {"contentType", "application/pdf"}}, t);
  REQUIRE(r.status == 200);
  const json& d = r.body_json["data"];
  CHECK(d["key"].get<std::string>().find("/Report Q1.pdf") != std::string::npos);
  CHECK_FALSE(d.contains("s3Url"));
  json secrets = h.query("SELECT value FROM generated_secrets WHERE name = 'presign_hmac'");
  REQUIRE(secrets.size() == 1);
  std::string url = d["uploadUrl"].get<std::string>();
  std::string query = url.substr(url.find('?') + 1);
  Result<PresignGrant> g = verify_worker_url("PUT", query, static_cast<int64_t>(h.now_ms / 1000),
                                             secrets[0]["value"].get<std::string>());
  REQUIRE(g.ok());
  CHECK(g.value().key == d["key"].get<std::string>());
  CHECK(g.value().content_type == "application/pdf");
  CHECK(g.value().max_bytes == 25 * 1024 * 1024);
  // The file row is pending until the bytes arrive, so it is not listed or downloadable yet.
  CHECK(h.query("SELECT state FROM files")[0]["state"] == "pending");
  CHECK(h.get("/api/v1/files/" + d["fileId"].get<std::string>(), t).status == 404);

  // A second grant reuses the same secret.
  REQUIRE(h.post("/api/r2/upload-url", {{"filename", "b.txt"}, {"contentType", "text/plain"}}, t)
              .status == 200);
  CHECK(h.query("SELECT COUNT(*) AS n FROM generated_secrets")[0]["n"] == 1);
}

TEST_CASE("with R2 API credentials, grants also carry a SigV4 presigned S3 URL", "[files]") {
  auto env = FakeHost::default_env();
  env["R2_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
  env["R2_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  env["R2_ACCOUNT_ID"] = "0123456789abcdef0123456789abcdef";
  env["PRESIGN_SECRET"] = std::string(40, 'k');
  FakeHost h(env);
  std::string t = token_for(h, "hank");
  HttpResult r =
      h.post("/api/r2/upload-url",
             {{"filename", "a.txt"}, {"contentType", "text/plain"}, {"expiresIn", 600}}, t);
  REQUIRE(r.status == 200);
  std::string s3 = r.body_json["data"]["s3Url"].get<std::string>();
  CHECK(
      s3.rfind("https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com/edgechat-files/",
               0) == 0);
  for (const char* part : {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Expires=600",
                           "X-Amz-SignedHeaders=host", "X-Amz-Signature="}) {
    CHECK(s3.find(part) != std::string::npos);
  }
  // A configured PRESIGN_SECRET is used as is; nothing is generated.
  CHECK(h.query("SELECT COUNT(*) AS n FROM generated_secrets")[0]["n"] == 0);
  std::string url = r.body_json["data"]["uploadUrl"].get<std::string>();
  CHECK(verify_worker_url("PUT", url.substr(url.find('?') + 1),
                          static_cast<int64_t>(h.now_ms / 1000), std::string(40, 'k'))
            .ok());
}

TEST_CASE("upload-url refuses bad input before creating anything", "[files]") {
  FakeHost h;
  std::string t = token_for(h, "ivy");
  CHECK(h.post("/api/r2/upload-url",
               {{"filename", "a.exe"}, {"contentType", "application/x-msdownload"}}, t)
            .status == 415);
  CHECK(h.post("/api/r2/upload-url", {{"filename", "a.txt"}}, t).status == 400);
  CHECK(h.post("/api/r2/upload-url", {{"filename", "a.txt"}, {"contentType", "text/plain"}}, "")
            .status == 401);
  CHECK(h.query("SELECT COUNT(*) AS n FROM files")[0]["n"] == 0);
}

TEST_CASE("without PUBLIC_BASE_URL presigned URLs use Host only for loopback with a warning",
          "[files]") {
  auto env = FakeHost::default_env();
  env.erase("PUBLIC_BASE_URL");
  FakeHost h(env);
  std::string t = token_for(h, "hugo");
  std::vector<std::string> warnings;
  h.intercept = [&](const std::string& op,
                    const json& args) -> std::optional<ec::testing::ForcedResult> {
    if (op == "log.write") warnings.push_back(args.value("line", ""));
    return std::nullopt;
  };
  auto grant = [&](const std::string& host) {
    ec::testing::Headers hs = {{"authorization", "Bearer " + t},
                               {"content-type", "application/json"}};
    if (!host.empty()) hs.emplace_back("host", host);
    return h.request("POST", "/api/r2/upload-url", hs,
                     R"({"filename":"a.txt","contentType":"text/plain"})");
  };
  for (const std::string& local : {"localhost:8787", "127.0.0.1:8787", "[::1]:8787", "localhost"}) {
    INFO(local);
    warnings.clear();
    HttpResult r = grant(local);
    REQUIRE(r.status == 200);
    CHECK(r.body_json["data"]["uploadUrl"].get<std::string>().rfind("http://" + local + "/", 0) ==
          0);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("\"warn\"") != std::string::npos);
    CHECK(warnings[0].find("PUBLIC_BASE_URL") != std::string::npos);
  }
  for (const std::string& remote :
       {"attacker.example", "localhost.attacker.example", "127.0.0.1.nip.io", "localhost:80@evil",
        "evil.example#localhost", ""}) {
    INFO(remote);
    HttpResult r = grant(remote);
    CHECK(r.status == 500);
    CHECK(r.body_json["details"]["code"] == "config.public_base_url_missing");
    CHECK(r.body.find("attacker") == std::string::npos);
  }
}
