// Fails if the core imports anything outside the shim's ABI: a stray import means I/O or a libc
// call leaked into the sans-IO core (the quinn-proto trick, DESIGN.md §6).
import { readFileSync } from "node:fs";

const ALLOWED = new Set([
  "wasi_snapshot_preview1.fd_write",
  "wasi_snapshot_preview1.fd_close",
  "wasi_snapshot_preview1.fd_seek",
  "wasi_snapshot_preview1.proc_exit",
  "env.emscripten_notify_memory_growth", // Emscripten builds only
]);
const REQUIRED_EXPORTS = ["memory", "_initialize", "core_input", "core_output", "core_init",
  "core_start", "core_resume", "core_cancel", "core_sessions", "core_request_headers", "core_gcra"];

const file = process.argv[2] ?? "js-shim/core.wasm";
const mod = new WebAssembly.Module(readFileSync(file));
const bad = WebAssembly.Module.imports(mod)
  .map((i) => `${i.module}.${i.name}`)
  .filter((name) => !ALLOWED.has(name));
const exports = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
const missing = REQUIRED_EXPORTS.filter((e) => !exports.has(e));
if (bad.length || missing.length) {
  if (bad.length) console.error(`core.wasm imports outside the shim ABI: ${bad.join(", ")}`);
  if (missing.length) console.error(`core.wasm lacks exports: ${missing.join(", ")}`);
  process.exit(1);
}
console.log(`wasm ABI ok: ${file} imports only the shim's WASI subset`);
