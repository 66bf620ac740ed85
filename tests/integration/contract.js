// The contract: every answer the integration suite receives through api() (helpers.js) is checked
// against openapi.json — its status must be one the operation declares, and a JSON body must match
// that status's schema (JSON Schema 2020-12, @cfworker/json-schema: made for Workers, where ajv's
// generated code cannot run). A mismatch throws, failing the test that got the answer.
import { Validator } from "@cfworker/json-schema";
import spec from "../../openapi.json";

// The spec's "#/components/schemas/X" refs as "#/$defs/X", so each validator carries them all.
const defs = JSON.parse(
  JSON.stringify(spec.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/'),
);
function local(schema) {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"#/$defs/'));
}

// Path templates as regexes, literal segments before params (as the router prefers them).
const operations = [];
for (const [template, item] of Object.entries(spec.paths)) {
  const params = (template.match(/\{[^}]+\}/g) ?? []).length;
  const regex = new RegExp(
    "^" + template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+") + "/?$",
  );
  for (const [method, op] of Object.entries(item)) {
    operations.push({ method: method.toUpperCase(), template, regex, params, op });
  }
}
operations.sort((a, b) => a.params - b.params);

/** The operation serving `method path` (HEAD as GET), or undefined. */
export function operationFor(method, path) {
  const m = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
  const p = path.split("?")[0];
  return operations.find((o) => o.method === m && o.regex.test(p));
}

const validators = new Map();
function validatorFor(key, schema) {
  let v = validators.get(key);
  if (!v) {
    v = new Validator({ $defs: defs, ...local(schema) }, "2020-12", false);
    validators.set(key, v);
  }
  return v;
}

export class ContractError extends Error {}

/**
 * Checks one answer against the spec; throws ContractError on a mismatch. Answers to paths the
 * spec does not describe (404/405 from the router, test hooks) are not checked.
 */
export function checkAnswer(method, path, status, contentType, body) {
  const found = operationFor(method, path);
  if (!found) return null;
  const where = `${found.method} ${found.template} → ${status}`;
  const declared = found.op.responses[String(status)];
  if (!declared) {
    throw new ContractError(
      `${where}: status not declared (declared: ${Object.keys(found.op.responses).join(", ")})` +
        (body ? `; body ${JSON.stringify(body).slice(0, 300)}` : ""),
    );
  }
  if (body === null || body === undefined || !/\bjson\b/.test(contentType ?? "")) return found;
  const media = declared.content?.["application/json"];
  if (!media?.schema) {
    throw new ContractError(`${where}: a JSON body where none is declared`);
  }
  const result = validatorFor(`${found.method} ${found.template} ${status}`, media.schema)
    .validate(body);
  const codes = declared["x-error-codes"];
  const code = typeof body.error === "object" ? body.error?.code : body.details?.code;
  if (codes && !codes.includes(code)) {
    throw new ContractError(`${where}: error code ${code} is not declared (declared: ${codes.join(", ")})`);
  }
  if (!result.valid) {
    const errors = result.errors
      .filter((e) => e.keyword !== "$ref" && e.keyword !== "allOf" && e.keyword !== "properties")
      .slice(0, 6)
      .map((e) => `${e.instanceLocation}: ${e.error}`);
    throw new ContractError(
      `${where}: body does not match its schema:\n  ${errors.join("\n  ")}\n  body: ` +
        JSON.stringify(body).slice(0, 400),
    );
  }
  return found;
}
