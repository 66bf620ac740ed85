// AWS Signature Version 4 against AWS's published examples. Every intermediate the source gives
// (canonical request, string to sign, signing key, signature, URL) is asserted on its own, so a
// failure says which step broke.
//
// Sources:
//  [S3-QUERY]  https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
//              "An Example": GET examplebucket/test.txt, 86400 s.
//  [S3-HEADER] https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
//              "Example: GET Object" (Range: bytes=0-9).
//  [KEY]       AWS "Examples of how to derive a signing key for Signature Version 4"
//              (secret ...+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam).
//  [SUITE]     aws-sig-v4-test-suite, get-vanilla/get-vanilla.{creq,sts,authz}.
//  [BOTOCORE]  botocore 1.43.11 S3SigV4QueryAuth with the clock pinned to 2013-05-24T00:00:00Z
//              (it reproduces [S3-QUERY] exactly), for an R2-shaped PUT this file cannot take
//              from AWS: region "auto", unicode/space/'+' key, signed content-type.
#include <catch2/catch.hpp>

#include "crypto/encoding.hpp"
#include "files/sigv4.hpp"

#include <string>

using namespace ec;

namespace {

constexpr const char* kS3AccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kS3Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";  // '/' in S3 docs
constexpr int64_t k20130524 = 1369353600;                                      // 2013-05-24T00:00Z

std::string key_hex(const Digest& d) { return hex_encode(digest_bytes(d)); }

}  // namespace

TEST_CASE("amz_date formats epoch seconds as YYYYMMDD'T'HHMMSS'Z'", "[sigv4]") {
  CHECK(amz_date(0) == "19700101T000000Z");
  CHECK(amz_date(k20130524) == "20130524T000000Z");
  CHECK(amz_date(1440938160) == "20150830T123600Z");
  CHECK(amz_date(951782400) == "20000229T000000Z");  // leap day
  CHECK(amz_date(253402300799) == "99991231T235959Z");
}

TEST_CASE("sigv4_uri_encode keeps only the unreserved set", "[sigv4]") {
  CHECK(sigv4_uri_encode("AZaz09-._~", false) == "AZaz09-._~");
  CHECK(sigv4_uri_encode("a b+c*d$e", false) == "a%20b%2Bc%2Ad%24e");  // space is %20, not '+'
  CHECK(sigv4_uri_encode("a/b", false) == "a%2Fb");
  CHECK(sigv4_uri_encode("a/b", true) == "a/b");
  CHECK(sigv4_uri_encode("caf\xC3\xA9", false) == "caf%C3%A9");  // bytes, uppercase hex
  CHECK(sigv4_uri_encode(std::string("\x00\xFF", 2), false) == "%00%FF");
  CHECK(sigv4_canonical_uri("/bkt/a b/../c%") == "/bkt/a%20b/../c%25");  // no normalisation
  CHECK(sigv4_canonical_uri("") == "/");
}

TEST_CASE("canonical query: encoded, sorted by name then value", "[sigv4]") {
  CHECK(sigv4_canonical_query({{"b", "2"}, {"a b", "c/d"}, {"a", "1"}, {"a", "0"}}) ==
        "a=0&a=1&a%20b=c%2Fd&b=2");
  CHECK(sigv4_canonical_query({{"lifecycle", ""}}) == "lifecycle=");
  CHECK(sigv4_canonical_query({}).empty());
}

TEST_CASE("canonical headers: lowercase, trimmed, sorted, repeats merged", "[sigv4]") {
  const std::vector<SigV4Header> headers = {
      {"X-Amz-Date", "20150830T123600Z"},
      {"Host", "example.amazonaws.com"},
      {"My-Header1", "  a   b \t c  "},
      {"my-header1", "second"},
  };
  CHECK(sigv4_signed_headers(headers) == "host;my-header1;x-amz-date");
  CHECK(sigv4_canonical_request("GET", "/", "", headers, kSigV4EmptyPayloadSha256) ==
        "GET\n/\n\n"
        "host:example.amazonaws.com\n"
        "my-header1:a b c,second\n"
        "x-amz-date:20150830T123600Z\n"
        "\n"
        "host;my-header1;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("[KEY] signing key derivation matches AWS's example", "[sigv4]") {
  CHECK(key_hex(sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                  "us-east-1", "iam")) ==
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST_CASE("[SUITE] get-vanilla: header-signed GET", "[sigv4]") {
  const std::string date = "20150830T123600Z";
  const std::vector<SigV4Header> headers = {{"Host", "example.amazonaws.com"},
                                            {"X-Amz-Date", date}};
  const std::string creq =
      sigv4_canonical_request("GET", "/", "", headers, hex_encode(digest_bytes(sha256(""))));
  CHECK(creq ==
        "GET\n/\n\n"
        "host:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n"
        "\n"
        "host;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  const std::string scope = sigv4_credential_scope(date, "us-east-1", "service");
  CHECK(scope == "20150830/us-east-1/service/aws4_request");
  const std::string sts = sigv4_string_to_sign(date, scope, creq);
  CHECK(sts ==
        "AWS4-HMAC-SHA256\n"
        "20150830T123600Z\n"
        "20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");

  const Digest key = sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830",
                                       "us-east-1", "service");
  const std::string sig = sigv4_signature(key, sts);
  CHECK(sig == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  CHECK(sigv4_authorization("AKIDEXAMPLE", scope, sigv4_signed_headers(headers), sig) ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_CASE("[S3-HEADER] GET Object with Range", "[sigv4]") {
  const std::string date = "20130524T000000Z";
  const std::vector<SigV4Header> headers = {
      {"Host", "examplebucket.s3.amazonaws.com"},
      {"Range", "bytes=0-9"},
      {"x-amz-content-sha256", std::string(kSigV4EmptyPayloadSha256)},
      {"x-amz-date", date},
  };
  const std::string creq = sigv4_canonical_request("GET", sigv4_canonical_uri("/test.txt"), "",
                                                   headers, kSigV4EmptyPayloadSha256);
  CHECK(creq ==
        "GET\n/test.txt\n\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "range:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n"
        "\n"
        "host;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string sts =
      sigv4_string_to_sign(date, sigv4_credential_scope(date, "us-east-1", "s3"), creq);
  CHECK(sts ==
        "AWS4-HMAC-SHA256\n"
        "20130524T000000Z\n"
        "20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(sigv4_signature(sigv4_signing_key(kS3Secret, "20130524", "us-east-1", "s3"), sts) ==
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("[S3-QUERY] presigned GET: every step and the final URL", "[sigv4]") {
  const std::string date = amz_date(k20130524);
  const std::string scope = sigv4_credential_scope(date, "us-east-1", "s3");
  const std::string query = sigv4_canonical_query({
      {"X-Amz-SignedHeaders", "host"},
      {"X-Amz-Expires", "86400"},
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Date", date},
      {"X-Amz-Credential", std::string(kS3AccessKey) + "/" + scope},
  });
  CHECK(query ==
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-"
        "east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
        "SignedHeaders=host");
  const std::string creq =
      sigv4_canonical_request("GET", sigv4_canonical_uri("/test.txt"), query,
                              {{"host", "examplebucket.s3.amazonaws.com"}}, kSigV4UnsignedPayload);
  CHECK(creq == "GET\n/test.txt\n" + query +
                    "\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  const std::string sts = sigv4_string_to_sign(date, scope, creq);
  CHECK(sts ==
        "AWS4-HMAC-SHA256\n"
        "20130524T000000Z\n"
        "20130524/us-east-1/s3/aws4_request\n"
        "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  CHECK(sigv4_signature(sigv4_signing_key(kS3Secret, "20130524", "us-east-1", "s3"), sts) ==
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");

  SigV4Params p;
  p.access_key_id = kS3AccessKey;
  p.secret_access_key = kS3Secret;
  p.region = "us-east-1";
  p.host = "examplebucket.s3.amazonaws.com";
  p.path = "/test.txt";
  p.now_s = k20130524;
  p.expires_s = 86400;
  CHECK(sigv4_presign_url(p) ==
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-"
        "Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
        "20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

namespace {

SigV4Params r2_put() {
  SigV4Params p;
  p.access_key_id = kS3AccessKey;
  p.secret_access_key = kS3Secret;
  p.host = r2_endpoint_host("acct123");
  p.method = "PUT";
  p.path = r2_object_path("edgechat", "u1/d1/na\xC3\xAFve r\xC3\xA9sum\xC3\xA9+1.pdf");
  p.now_s = k20130524;
  p.expires_s = 900;
  p.extra_headers = {{"Content-Type", "application/pdf"}};
  return p;
}

}  // namespace

TEST_CASE("[BOTOCORE] R2 presigned PUT: region auto, unicode key, signed content-type", "[sigv4]") {
  SigV4Params p = r2_put();
  CHECK(p.region == "auto");
  CHECK(p.service == "s3");
  CHECK(sigv4_presign_url(p) ==
        "https://acct123.r2.cloudflarestorage.com/edgechat/u1/d1/"
        "na%C3%AFve%20r%C3%A9sum%C3%A9%2B1.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
        "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fauto%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&"
        "X-Amz-Expires=900&X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature="
        "67c935e6238bca1a8908fa04e680d31163f62fba1973f412884aa360891c78c1");
}

TEST_CASE("presign: every input is bound into the signature", "[sigv4]") {
  const std::string base = sigv4_presign_url(r2_put());
  auto sig_of = [](const std::string& url) { return url.substr(url.rfind('=') + 1); };
  const std::string base_sig = sig_of(base);
  REQUIRE(base_sig.size() == 64);

  SigV4Params p = r2_put();
  p.method = "GET";
  CHECK(sig_of(sigv4_presign_url(p)) != base_sig);
  p = r2_put();
  p.path += "x";
  CHECK(sig_of(sigv4_presign_url(p)) != base_sig);
  p = r2_put();
  p.now_s += 1;
  CHECK(sig_of(sigv4_presign_url(p)) != base_sig);
  p = r2_put();
  p.extra_headers[0].value = "text/plain";
  CHECK(sig_of(sigv4_presign_url(p)) != base_sig);
  p = r2_put();
  p.secret_access_key += "x";
  CHECK(sig_of(sigv4_presign_url(p)) != base_sig);
  p = r2_put();
  p.extra_query = {{"x-id", "PutObject"}};
  const std::string with_query = sigv4_presign_url(p);
  CHECK(sig_of(with_query) != base_sig);
  CHECK(with_query.find("&X-Amz-SignedHeaders=content-type%3Bhost&x-id=PutObject&X-Amz-"
                        "Signature=") != std::string::npos);  // sorted: 'X' < 'x'
}

TEST_CASE("presign: expires clamped to S3's 1..604800, host never doubled", "[sigv4]") {
  SigV4Params p = r2_put();
  p.expires_s = 0;
  CHECK(sigv4_presign_url(p).find("&X-Amz-Expires=1&") != std::string::npos);
  p.expires_s = 604800;
  CHECK(sigv4_presign_url(p).find("&X-Amz-Expires=604800&") != std::string::npos);
  p.expires_s = 604801;
  CHECK(sigv4_presign_url(p).find("&X-Amz-Expires=604800&") != std::string::npos);
  p = r2_put();
  p.extra_headers.push_back({"Host", "evil.example"});
  CHECK(sigv4_presign_url(p) == sigv4_presign_url(r2_put()));
}
