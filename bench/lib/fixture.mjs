// A self-contained auth fixture for the no-I/O core benchmarks: a fresh RSA-2048 key (as the
// signing_keys row edgechat stores), a user + session row, and real RS256 access tokens signed
// with Node's crypto, with exactly the header and claims edgechat mints (src/auth/tokens.cpp).
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";

const b64url = (buf) => Buffer.from(buf).toString("base64url");

// RFC 7638 thumbprint, as src/auth/keys.cpp jwk_thumbprint computes it.
export function jwkThumbprint(jwk) {
  const canonical = `{"e":${JSON.stringify(jwk.e)},"kty":"RSA","n":${JSON.stringify(jwk.n)}}`;
  return b64url(createHash("sha256").update(canonical).digest());
}

// Verifies an edgechat crypto.verify effect for real: {jwk, data, signature(b64url)} → boolean.
export function verifyRs256(jwk, data, signatureB64url) {
  const key = createPublicKey({ key: jwk, format: "jwk" });
  return verify("sha256", Buffer.from(data), key, Buffer.from(signatureB64url, "base64url"));
}

export function makeFixture({ tokens = 1, nowMs = Date.now() } = {}) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pub = publicKey.export({ format: "jwk" });
  const publicJwk = { kty: "RSA", n: pub.n, e: pub.e };
  const privateJwk = privateKey.export({ format: "jwk" });
  const kid = jwkThumbprint(publicJwk);
  const env = {
    JWT_ISSUER: "edgechat", JWT_AUDIENCE: "edgechat-api", ACCESS_TOKEN_TTL_SECONDS: "900",
    REFRESH_TOKEN_TTL_SECONDS: "2592000", KEY_ROTATION_DAYS: "30", ALLOWED_ORIGINS: "*",
    BODY_LIMIT_BYTES: "1048576",
    // These benches answer effects themselves and measure other work; section 9 measures the limiter.
    RATE_LIMITS: "off",
  };
  const userId = "usr_0123456789abcdef01234567";
  const sessionId = "ses_0123456789abcdef01234567";
  const createdAt = nowMs - 60_000;
  const keyRows = [{
    kid, public_jwk: JSON.stringify(publicJwk), private_jwk: JSON.stringify(privateJwk),
    created_at: createdAt, retired_at: null,
  }];
  const userRow = {
    id: userId, username: "bench_user", email: "bench@example.com", role: "user", is_guest: 0,
    disabled_at: null, created_at: createdAt, session_revoked_at: null, session_id: sessionId,
  };
  const iat = Math.floor(nowMs / 1000) - 5;
  const list = [];
  for (let i = 0; i < tokens; i++) {
    const header = { alg: "RS256", typ: "JWT", kid };
    const payload = {
      iss: env.JWT_ISSUER, aud: env.JWT_AUDIENCE, sub: userId, sid: sessionId, role: "user",
      iat, nbf: iat, exp: iat + 900, jti: createHash("sha256").update(`jti${i}${nowMs}`).digest("hex").slice(0, 32),
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const sig = b64url(sign("sha256", Buffer.from(input), privateKey));
    list.push(`${input}.${sig}`);
  }
  return { nowMs, env, kid, publicJwk, keyRows, userRow, tokens: list };
}
