// Fails if an include under src/ runs back up a layer (DESIGN.md §3): a directory may include its
// own files and those of any lower layer, never a higher one, and never a peer of its own layer
// (peers stay independent: a helper two of them need moves down to a layer both stand on).
// `node scripts/check-layers.mjs` lists every offending include; run by scripts/test.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

// Lowest first. A directory of src/ missing here is an error, so a new room gets a place on purpose.
const LAYERS = [
  ["core"], //       task, effects, Ctx, JSON, env parsing: no domain
  ["crypto"], //     hashes, encodings, constant-time compare
  ["http"], //       router, pipeline, validation, paging cursors: knows no domain
  ["bindings"], //   typed effect calls (D1, R2, KV, AI, Vectorize, fetch, …)
  ["auth", "billing", "jobs", "providers"], // accounts · credits · the jobs engine · wire formats
  ["files", "limits"], // file service (owned by users) · rate limits (keyed by caller)
  ["extract"], //    bytes → text (extract/pdf/ included)
  ["index"], //      embedders, vector stores, keyword query, fusion
  ["text"], //       chunker, summaries, one-shot LLM text (summaries use the index's word folding)
  ["graph"], //      knowledge-graph extraction and reading
  ["rag"], //        the document service
  ["chat", "cleanup"], // conversations and answers · expiry and orphan sweeps
  ["api"], //        the route table; registers job types at start-up
  ["abi"], //        exports.cpp
];

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");
const rank = new Map();
LAYERS.forEach((peers, i) => peers.forEach((dir) => rank.set(dir, i)));

const problems = [];
const dirs = readdirSync(src, { withFileTypes: true }).filter((d) => d.isDirectory());
for (const d of dirs) {
  if (!rank.has(d.name)) problems.push(`src/${d.name}/ is in no layer: add it to LAYERS in scripts/check-layers.mjs`);
}
for (const dir of rank.keys()) {
  if (!dirs.some((d) => d.name === dir)) problems.push(`LAYERS names src/${dir}/, which does not exist`);
}

function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (/\.(cpp|hpp|h|inc)$/.test(e.name)) yield p;
  }
}

let files = 0;
let includes = 0;
for (const file of sources(src)) {
  const path = relative(root, file);
  const from = relative(src, file).split("/")[0];
  if (!rank.has(from)) continue; // reported above
  files++;
  readFileSync(file, "utf8").split("\n").forEach((line, i) => {
    const m = /^\s*#\s*include\s+"([^"/]+)\//.exec(line);
    if (!m) return;
    const to = m[1];
    includes++;
    if (to === from) return;
    if (!rank.has(to)) {
      problems.push(`${path}:${i + 1}: includes "${to}/…", which is no layer of src/`);
    } else if (rank.get(to) > rank.get(from)) {
      problems.push(`${path}:${i + 1}: ${from} → ${to} runs up a layer (${line.trim()})`);
    } else if (rank.get(to) === rank.get(from)) {
      problems.push(`${path}:${i + 1}: ${from} → ${to} crosses between peers (${line.trim()})`);
    }
  });
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error(`\n${problems.length} include(s) against the layer order (lowest first):`);
  console.error(LAYERS.map((p) => (p.length > 1 ? `(${p.join(", ")})` : p[0])).join(" < "));
  process.exit(1);
}
console.log(`layers ok (${files} files, ${includes} includes across ${LAYERS.length} layers)`);
