// SHA-256 / HMAC against the published vectors (FIPS 180-4 examples, RFC 4231), the encoders
// against RFC 4648 §10, and the strictness the JWT parser relies on.
#include <catch2/catch.hpp>
#include <string>

#include "crypto/ct.hpp"
#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"

namespace {

std::string hex(const ec::Digest& d) { return ec::hex_encode(ec::digest_bytes(d)); }

std::string unhex(std::string_view text) {
  auto bytes = ec::hex_decode(text);
  REQUIRE(bytes.has_value());
  return *bytes;
}

std::string all_byte_values() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 examples", "[crypto][sha256]") {
  CHECK(hex(ec::sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(ec::sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(ec::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(
      hex(ec::sha256("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
                     "nopqklmnopqrlmnopqrsmnopqrstnopqrstu")) ==
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_CASE("sha256 of one million 'a', one-shot and in uneven chunks", "[crypto][sha256]") {
  const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  std::string million(1000000, 'a');
  CHECK(hex(ec::sha256(million)) == expected);

  ec::Sha256 hasher;
  std::string_view rest = million;
  for (size_t chunk = 1; !rest.empty(); chunk = chunk * 3 % 1000 + 1) {
    size_t n = std::min(chunk, rest.size());
    hasher.update(rest.substr(0, n));
    rest.remove_prefix(n);
  }
  CHECK(hex(hasher.finish()) == expected);
}

TEST_CASE("sha256 padding boundaries", "[crypto][sha256]") {
  // Lengths where the 0x80 + 64-bit length either just fits in the last block or spills over.
  struct Vector {
    size_t length;
    const char* digest;
  };
  const Vector vectors[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
  };
  for (const Vector& v : vectors) {
    INFO("length " << v.length);
    CHECK(hex(ec::sha256(std::string(v.length, 'a'))) == v.digest);
  }
}

TEST_CASE("sha256 incremental update at every split point equals one-shot", "[crypto][sha256]") {
  std::string message;
  for (int i = 0; i < 200; ++i) message.push_back(static_cast<char>((i * 37 + 11) & 0xff));
  const ec::Digest expected = ec::sha256(message);
  for (size_t split = 0; split <= message.size(); ++split) {
    INFO("split at " << split);
    ec::Sha256 hasher;
    hasher.update(std::string_view(message).substr(0, split));
    hasher.update(std::string_view(message).substr(split));
    CHECK(hasher.finish() == expected);
  }
  ec::Sha256 bytewise;
  for (char c : message) bytewise.update(std::string_view(&c, 1));
  CHECK(bytewise.finish() == expected);
}

TEST_CASE("hmac_sha256 matches RFC 4231 test cases 1-7", "[crypto][hmac]") {
  SECTION("1: short key") {
    CHECK(hex(ec::hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  }
  SECTION("2: key shorter than the output") {
    CHECK(hex(ec::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  SECTION("3: combined key and data of 0xaa/0xdd") {
    CHECK(hex(ec::hmac_sha256(std::string(20, '\xaa'), std::string(50, '\xdd'))) ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  }
  SECTION("4: 25-byte counting key") {
    CHECK(hex(ec::hmac_sha256(unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                              std::string(50, '\xcd'))) ==
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  }
  SECTION("5: truncated to 128 bits") {
    CHECK(hex(ec::hmac_sha256(std::string(20, '\x0c'), "Test With Truncation")).substr(0, 32) ==
          "a3b6167473100ee06e0c796c2955552b");
  }
  SECTION("6: 131-byte key is hashed first") {
    CHECK(hex(ec::hmac_sha256(std::string(131, '\xaa'),
                              "Test Using Larger Than Block-Size Key - Hash Key First")) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  }
  SECTION("7: 131-byte key and data longer than a block") {
    CHECK(hex(ec::hmac_sha256(
              std::string(131, '\xaa'),
              "This is a test using a larger than block-size key and a larger than block-size "
              "data. The key needs to be hashed before being used by the HMAC algorithm.")) ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  }
}

TEST_CASE("digest_bytes is the raw 32-byte digest", "[crypto][sha256]") {
  std::string bytes = ec::digest_bytes(ec::sha256("abc"));
  REQUIRE(bytes.size() == 32);
  CHECK(static_cast<unsigned char>(bytes[0]) == 0xba);
  CHECK(static_cast<unsigned char>(bytes[31]) == 0xad);
}

TEST_CASE("base64 matches RFC 4648 section 10", "[crypto][encoding]") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    INFO(plain);
    CHECK(ec::base64_encode(plain) == encoded);
    CHECK(ec::base64_decode(encoded) == std::optional<std::string>(plain));
    // base64url differs only in alphabet and dropped padding for these inputs.
    std::string unpadded(encoded);
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    CHECK(ec::base64url_encode(plain) == unpadded);
    CHECK(ec::base64url_decode(unpadded) == std::optional<std::string>(plain));
    CHECK(ec::base64_decode(unpadded) == std::optional<std::string>(plain));  // padding optional
  }
}

TEST_CASE("base64 and base64url use their own alphabets", "[crypto][encoding]") {
  const std::string bytes = "\xfb\xff\xbf";  // encodes to the two alphabet-specific characters
  CHECK(ec::base64_encode(bytes) == "+/+/");
  CHECK(ec::base64url_encode(bytes) == "-_-_");
  CHECK(ec::base64_decode("+/+/") == std::optional<std::string>(bytes));
  CHECK(ec::base64url_decode("-_-_") == std::optional<std::string>(bytes));
  CHECK_FALSE(ec::base64_decode("-_-_").has_value());
  CHECK_FALSE(ec::base64url_decode("+/+/").has_value());
}

TEST_CASE("encoders round-trip every byte value at every tail length", "[crypto][encoding]") {
  const std::string all = all_byte_values();
  for (size_t len = 0; len <= all.size(); ++len) {
    std::string_view bytes = std::string_view(all).substr(all.size() - len);
    INFO("length " << len);
    CHECK(ec::base64_decode(ec::base64_encode(bytes)) == std::optional<std::string>(bytes));
    CHECK(ec::base64url_decode(ec::base64url_encode(bytes)) == std::optional<std::string>(bytes));
    CHECK(ec::hex_decode(ec::hex_encode(bytes)) == std::optional<std::string>(bytes));
  }
}

TEST_CASE("base64url decoding is strict", "[crypto][encoding]") {
  CHECK_FALSE(ec::base64url_decode("Zg==").has_value());  // padding
  CHECK_FALSE(ec::base64url_decode("Zm8=").has_value());
  CHECK_FALSE(ec::base64url_decode("ab+c").has_value());  // standard alphabet
  CHECK_FALSE(ec::base64url_decode("ab/c").has_value());
  CHECK_FALSE(ec::base64url_decode("Zm9v Yg").has_value());  // whitespace
  CHECK_FALSE(ec::base64url_decode("Zm9v\nYg").has_value());
  CHECK_FALSE(ec::base64url_decode("Zm9vY").has_value());  // 4n+1 characters
  CHECK_FALSE(ec::base64url_decode("Zm9v.g").has_value());
  CHECK_FALSE(ec::base64url_decode(std::string("Zm\0v", 4)).has_value());
  // Non-canonical trailing bits: "Zh" and "Zm9" + "w" carry bits an encoder always leaves zero.
  CHECK(ec::base64url_decode("Zg") == std::optional<std::string>("f"));
  CHECK_FALSE(ec::base64url_decode("Zh").has_value());
  CHECK(ec::base64url_decode("Zm9w").has_value());  // a whole quad has no spare bits
  CHECK(ec::base64url_decode("Zm8") == std::optional<std::string>("fo"));
  CHECK_FALSE(ec::base64url_decode("Zm9").has_value());
  CHECK_FALSE(ec::base64url_decode("Zm-").has_value());
}

TEST_CASE("base64 (standard) decoding rejects malformed padding and characters",
          "[crypto][encoding]") {
  CHECK_FALSE(ec::base64_decode("Zg=").has_value());  // wrong amount of padding
  CHECK_FALSE(ec::base64_decode("Zm8==").has_value());
  CHECK_FALSE(ec::base64_decode("Zg===").has_value());
  CHECK_FALSE(ec::base64_decode("====").has_value());
  CHECK_FALSE(ec::base64_decode("Z===").has_value());
  CHECK_FALSE(ec::base64_decode("=").has_value());
  CHECK_FALSE(ec::base64_decode("Zg==Zg==").has_value());  // padding in the middle
  CHECK_FALSE(ec::base64_decode("Z=g=").has_value());
  CHECK_FALSE(ec::base64_decode("Zm9v\r\n").has_value());  // whitespace
  CHECK_FALSE(ec::base64_decode("Zh==").has_value());      // non-canonical trailing bits
  CHECK_FALSE(ec::base64_decode("Zm9=").has_value());
  CHECK_FALSE(ec::base64_decode("Zm9v-_").has_value());  // url alphabet
}

TEST_CASE("hex encodes lowercase and decodes either case", "[crypto][encoding]") {
  CHECK(ec::hex_encode("\x01\xab\xff") == "01abff");
  CHECK(ec::hex_encode("") == "");
  CHECK(ec::hex_decode("01ABff") == std::optional<std::string>("\x01\xab\xff"));
  CHECK(ec::hex_decode("") == std::optional<std::string>(""));
  CHECK_FALSE(ec::hex_decode("abc").has_value());  // odd length
  CHECK_FALSE(ec::hex_decode("0g").has_value());
  CHECK_FALSE(ec::hex_decode(" 0").has_value());
  CHECK_FALSE(ec::hex_decode("0x").has_value());
}

TEST_CASE("constant_time_equal compares bytes, including embedded NULs", "[crypto][ct]") {
  CHECK(ec::constant_time_equal("", ""));
  CHECK(ec::constant_time_equal("secret", "secret"));
  CHECK_FALSE(ec::constant_time_equal("secret", "secreT"));
  CHECK_FALSE(ec::constant_time_equal("secret", "Secret"));
  CHECK_FALSE(ec::constant_time_equal("secret", "secret2"));
  CHECK_FALSE(ec::constant_time_equal("", "a"));
  CHECK(ec::constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  CHECK_FALSE(ec::constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
  const ec::Digest d = ec::hmac_sha256("k", "m");
  CHECK(ec::constant_time_equal(ec::digest_bytes(d), ec::digest_bytes(ec::hmac_sha256("k", "m"))));
  CHECK_FALSE(
      ec::constant_time_equal(ec::digest_bytes(d), ec::digest_bytes(ec::hmac_sha256("k", "n"))));
}
