// Runs a WASI preview1 command module (the Wasm build of rag_bench.cpp) under node:wasi, in its own
// process so the bench's Node process keeps its heap and its stdout to itself.
//
//   node --no-warnings bench/rag/run-wasi.mjs MODULE.wasm HOST_DIR GUEST_DIR [args...]
//
// HOST_DIR is preopened as GUEST_DIR; args follow argv[0] ("rag_bench"). The module's stdout and
// stderr are this process's; the exit code is the module's.
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";

const [file, hostDir, guestDir, ...args] = process.argv.slice(2);
if (!file || !hostDir || !guestDir) {
  console.error("usage: node bench/rag/run-wasi.mjs MODULE.wasm HOST_DIR GUEST_DIR [args...]");
  process.exit(2);
}
const wasi = new WASI({
  version: "preview1",
  args: ["rag_bench", ...args],
  env: {},
  preopens: { [guestDir]: hostDir },
  returnOnExit: true,
});
const module = await WebAssembly.compile(readFileSync(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const before = instance.exports.memory.buffer.byteLength;
process.exitCode = wasi.start(instance);
// Node 20's node:wasi can crash after memory.grow (see CMakeLists.txt): the module is linked with
// enough initial memory never to grow; say so if that stops being true.
const after = instance.exports.memory.buffer.byteLength;
if (after !== before) console.error(`warning: linear memory grew from ${before} to ${after} bytes`);
