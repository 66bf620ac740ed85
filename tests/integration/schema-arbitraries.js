// fast-check arbitraries from the JSON Schemas in openapi.json: values that a schema accepts
// (validArbitrary) and values it must refuse (invalidArbitrary), for the contract fuzzer
// (fuzz.test.js). Covers what the route table emits for requests (http/describe.cpp): objects with
// properties/required/additionalProperties, strings with length/pattern/enum/email, integers and
// numbers with bounds, booleans, arrays with item bounds, and nullable types.
import fc from "fast-check";

const MAX_STRING = 48; // valid strings stay short: the point is shape, not size

function types(schema) {
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type];
  if (schema.enum) return [...new Set(schema.enum.map((v) => (v === null ? "null" : typeof v)))];
  return ["string"];
}

function stringArb(schema) {
  if (schema.enum) return fc.constantFrom(...schema.enum.filter((v) => typeof v === "string"));
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? MAX_STRING, MAX_STRING));
  if (schema.format === "email") {
    return fc
      .tuple(fc.stringMatching(/^[a-z0-9]{1,12}$/), fc.stringMatching(/^[a-z]{1,10}\.[a-z]{2,4}$/))
      .map(([l, d]) => `${l}@${d}`)
      .filter((s) => s.length >= minLength && s.length <= (schema.maxLength ?? 254));
  }
  if (schema.pattern) {
    // Patterns the table emits are anchored character classes: ^[...]*$.
    const m = /^\^\[(.*)\]\*\$$/.exec(schema.pattern);
    if (m) {
      const cls = new RegExp(`^[${m[1]}]$`);
      const chars = [];
      for (let c = 32; c < 127; c++) if (cls.test(String.fromCharCode(c))) chars.push(String.fromCharCode(c));
      return fc
        .array(fc.constantFrom(...chars), { minLength, maxLength })
        .map((a) => a.join(""));
    }
    return fc.stringMatching(new RegExp(schema.pattern)).filter(
      (s) => [...s].length >= minLength && [...s].length <= maxLength,
    );
  }
  // Code points, as the validator counts: unicode text, with a letter first so that trimming
  // never empties a required value.
  return fc
    .string({ unit: "grapheme", minLength: Math.max(0, minLength - 1), maxLength: Math.max(0, maxLength - 1) })
    .map((s) => (minLength > 0 || s.length > 0 ? "a" + s : s))
    .filter((s) => [...s].length >= minLength && [...s].length <= maxLength);
}

function integerArb(schema) {
  const min = schema.minimum ?? -1000;
  const max = schema.maximum ?? Math.max(min, 1000);
  return fc.integer({ min: Math.max(min, -1e9), max: Math.min(max, 1e9) });
}

function numberArb(schema) {
  const min = schema.minimum ?? -1000;
  const max = schema.maximum ?? Math.max(min, 1000);
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

export function validArbitrary(schema) {
  if (schema.const !== undefined) return fc.constant(schema.const);
  const options = types(schema).map((t) => {
    switch (t) {
      case "null":
        return fc.constant(null);
      case "string":
        return stringArb(schema);
      case "integer":
        return integerArb(schema);
      case "number":
        return numberArb(schema);
      case "boolean":
        return fc.boolean();
      case "array": {
        const minLength = schema.minItems ?? 0;
        const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? 3, 3));
        const items = schema.items ? validArbitrary(schema.items) : fc.string({ maxLength: 12 });
        return fc.array(items, { minLength, maxLength });
      }
      case "object": {
        const props = schema.properties ?? {};
        const shape = {};
        for (const [k, s] of Object.entries(props)) shape[k] = validArbitrary(s);
        return fc.record(shape, { requiredKeys: schema.required ?? [] });
      }
      default:
        return fc.constant(null);
    }
  });
  return options.length === 1 ? options[0] : fc.oneof(...options);
}

// A value of the wrong JSON type for `schema`.
function wrongType(schema) {
  const ok = new Set(types(schema));
  const candidates = [];
  if (!ok.has("string")) candidates.push(fc.constant("not-the-right-type"));
  if (!ok.has("integer") && !ok.has("number")) candidates.push(fc.constant(12345));
  if (!ok.has("boolean")) candidates.push(fc.constant(true));
  if (!ok.has("object")) candidates.push(fc.constant({ nested: { deeper: [1, 2] } }));
  if (!ok.has("array")) candidates.push(fc.constant(["x", 1]));
  return candidates.length ? fc.oneof(...candidates) : null;
}

// A value of the right type that breaks one of its rules, or null when it has none to break.
function brokenRule(schema) {
  const t = types(schema);
  const out = [];
  if (t.includes("string")) {
    if (schema.maxLength !== undefined) {
      out.push(fc.constant("x".repeat(schema.maxLength + 1)));
      out.push(fc.constant("é".repeat(schema.maxLength + 1)));
    }
    if (schema.minLength > 0) out.push(fc.constant(""));
    if (schema.enum) out.push(fc.constant("surely-not-an-option"));
    if (schema.pattern) out.push(fc.constant("\u0000 bad\u202e"));
    if (schema.format === "email") out.push(fc.constant("no-at-sign"));
  }
  if (t.includes("integer")) {
    if (schema.maximum !== undefined) out.push(fc.constant(schema.maximum + 1));
    if (schema.minimum !== undefined) out.push(fc.constant(schema.minimum - 1));
    out.push(fc.constant(1.5));
  }
  if ((t.includes("integer") || t.includes("number")) && schema.maximum !== undefined) {
    out.push(fc.constant(schema.maximum + 1));
  }
  if (t.includes("array") && schema.maxItems !== undefined) {
    out.push(fc.constant(Array.from({ length: schema.maxItems + 1 }, () => "x")));
  }
  return out.length ? fc.oneof(...out) : null;
}

/**
 * A body `schema` must refuse: a JSON value that is not an object, a required field left out,
 * a field of the wrong type or breaking its rule, an unknown field when additionalProperties is
 * false, or null where null is not allowed. Returns null when the schema refuses nothing (no
 * properties to break).
 */
export function invalidBodyArbitrary(schema) {
  const cases = [fc.constantFrom([], "text", 42, null, [{ a: 1 }])];
  const props = schema.properties ?? {};
  const base = validArbitrary(schema);
  for (const [k, s] of Object.entries(props)) {
    const wrong = wrongType(s);
    if (wrong) cases.push(fc.tuple(base, wrong).map(([b, v]) => ({ ...b, [k]: v })));
    const broken = brokenRule(s);
    if (broken) cases.push(fc.tuple(base, broken).map(([b, v]) => ({ ...b, [k]: v })));
    if (!types(s).includes("null")) {
      cases.push(base.map((b) => ({ ...b, [k]: null })));
    }
  }
  for (const k of schema.required ?? []) {
    cases.push(base.map((b) => {
      const c = { ...b };
      delete c[k];
      return c;
    }));
  }
  if (schema.additionalProperties === false) {
    cases.push(base.map((b) => ({ ...b, surelyUnknownField: 1 })));
  }
  return fc.oneof(...cases);
}

/** A query parameter value its schema refuses, or null when it refuses nothing. */
export function invalidQueryArbitrary(schema) {
  const t = types(schema);
  const out = [];
  if (t.includes("integer")) out.push(fc.constantFrom("abc", "1.5", "", "9".repeat(30)));
  if (t.includes("number")) out.push(fc.constantFrom("abc", "", "1e999"));
  if (t.includes("boolean")) out.push(fc.constantFrom("yes", "1", ""));
  const broken = brokenRule(schema);
  if (broken) out.push(broken.map(String));
  return out.length ? fc.oneof(...out) : null;
}

/** Path parameter values a hostile client sends: traversal, encodings, control bytes, sizes. */
export const hostilePathParam = fc.constantFrom(
  "..",
  "%2e%2e",
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "%C0%AF",
  "%FF%FE",
  "a%0D%0ASet-Cookie:%20x=1",
  "x".repeat(300),
  "%E2%80%AE",
  "' OR 1=1 --",
  "chat_%25",
  "usr_0000000000000000",
);
