// RAG building blocks, with no I/O: the chunker (ec::chunk_text) against LangChain's
// RecursiveCharacterTextSplitter on the same ~10 MB text, and the local vector index (top-10 of
// 10,000 x 768 float32 / int8 vectors), natively and in Wasm with SIMD.
//
//   1. bench/rag/corpus.mjs writes the text once to a temp dir.
//   2. build/native-release/edgechat_rag_bench TEXT reps queries             (bench/rag/rag_bench.cpp)
//   3. build/wasm-release/edgechat_rag_bench.opt.wasm, same arguments, under node:wasi in a child
//      process (bench/rag/run-wasi.mjs) with the temp dir preopened as /corpus
//   4. RecursiveCharacterTextSplitter({chunkSize: 512, chunkOverlap: 64}).splitText(text) in this
//      process: one warm-up, then the median of the timed runs.
// Each C++ run reports the median of its own timed chunk_text runs (after a warm-up) and per-query
// medians for top-k. MB/s = 10^6 bytes of UTF-8 per second on every side.
//
// Run alone: node bench/rag.mjs [--quick] [--native PATH] [--wasm PATH]  → JSON on stdout.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeCorpus } from "./rag/corpus.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const RAG_NATIVE = path.join(ROOT, "build", "native-release", "edgechat_rag_bench");
export const RAG_WASM = path.join(ROOT, "build", "wasm-release", "edgechat_rag_bench.opt.wasm");
const CHUNK = { chunkSize: 512, chunkOverlap: 64 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function runJson(cmd, args) {
  // 15 minutes is far more than any run takes; it only keeps a hung child from hanging the bench.
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 20, timeout: 900_000 });
  if (r.error) return { error: String(r.error.message ?? r.error) };
  if (r.status !== 0) {
    const why = r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
    return { error: `${path.basename(args[0] ?? cmd)} ${why}: ${(r.stderr || "").trim().slice(0, 300)}` };
  }
  try {
    const out = JSON.parse(r.stdout);
    if (r.stderr.trim()) out.stderr = r.stderr.trim().slice(0, 300);
    return out;
  } catch {
    return { error: `unparsable output: ${r.stdout.slice(0, 200)}` };
  }
}

async function langchain(text, bytes, reps) {
  const { RecursiveCharacterTextSplitter } = await import("@langchain/textsplitters");
  const version = JSON.parse(readFileSync(
    path.join(ROOT, "node_modules", "@langchain", "textsplitters", "package.json"), "utf8")).version;
  const splitter = new RecursiveCharacterTextSplitter(CHUNK);
  const ms = [];
  let chunks = 0, longest = 0;
  for (let i = 0; i <= reps; i++) {  // run 0 is the warm-up
    const t0 = performance.now();
    const out = await splitter.splitText(text);
    const t = performance.now() - t0;
    if (i > 0) ms.push(t);
    chunks = out.length;
    if (i === 0) for (const c of out) longest = Math.max(longest, c.length);
  }
  const med = median(ms);
  return {
    version, options: CHUNK, reps, chunks, longestChunkChars: longest,
    medianMs: +med.toFixed(1), minMs: +Math.min(...ms).toFixed(1),
    mbPerS: +(bytes / 1e6 / (med / 1e3)).toFixed(2),
  };
}

// Options: quick; native / wasm: paths of the two builds, or false to skip one (a string error
// in their place is reported as the reason); corpusBytes.
export async function benchRag({ quick = false, native = RAG_NATIVE, wasm = RAG_WASM, corpusBytes = 10_000_000 } = {}) {
  const reps = quick ? 3 : 9;
  const queries = quick ? 60 : 300;
  const lcReps = quick ? 2 : 5;
  const dir = mkdtempSync(path.join(os.tmpdir(), "edgechat-rag-"));
  try {
    const file = path.join(dir, "corpus.md");
    const corpus = writeCorpus(file, corpusBytes);
    const res = {
      corpus: {
        bytes: corpus.bytes, chars: corpus.chars, nonAsciiBytes: Buffer.from(corpus.text).filter((b) => b >= 0x80).length,
        generator: "bench/rag/corpus.mjs (deterministic Markdown prose, headings, accented Latin, Japanese)",
      },
      method: `chunk_text(ExtractedText{text, '#'-line headings, "markdown"}, ChunkOptions{512, 64}): warm-up + ${reps} runs, median; ` +
        `top_k_cosine / top_k_int8, k=10 over 10,000 x 768 unit vectors: ${queries} queries timed one by one after 5 warm-up, median; ` +
        `LangChain RecursiveCharacterTextSplitter(${JSON.stringify(CHUNK)}).splitText: warm-up + ${lcReps} runs, median`,
    };
    const args = [String(reps), String(queries)];
    if (typeof native !== "string" || !existsSync(native)) {
      res.native = { error: native === false ? "skipped" : typeof native === "string" ? `${path.relative(ROOT, native)} not built` : String(native) };
    } else {
      res.native = runJson(native, [file, ...args]);
    }
    if (typeof wasm !== "string" || !existsSync(wasm)) {
      res.wasm = { error: wasm === false ? "skipped" : typeof wasm === "string" ? `${path.relative(ROOT, wasm)} not built` : String(wasm) };
    } else {
      res.wasm = runJson(process.execPath, ["--no-warnings", path.join(ROOT, "bench", "rag", "run-wasi.mjs"),
        wasm, dir, "/corpus", "/corpus/corpus.md", ...args]);
      if (!res.wasm.error) res.wasm.module = path.relative(ROOT, wasm);
    }
    try {
      // Buffer.toString, not the generator's string, so LangChain gets the file's text as read.
      res.langchain = await langchain(readFileSync(file, "utf8"), corpus.bytes, lcReps);
    } catch (e) {
      res.langchain = { error: String(e?.message ?? e) };
    }
    const n = res.native, w = res.wasm, lc = res.langchain;
    res.ratio = {
      wasmVsLangchain: !w.error && !lc.error ? +(w.chunker.mbPerS / lc.mbPerS).toFixed(2) : null,
      nativeVsLangchain: !n.error && !lc.error ? +(n.chunker.mbPerS / lc.mbPerS).toFixed(2) : null,
      wasmVsNative: !w.error && !n.error ? +(w.chunker.mbPerS / n.chunker.mbPerS).toFixed(2) : null,
    };
    if (!w.error && !n.error) {
      res.sameChunks = w.chunker.checksum === n.chunker.checksum && w.chunker.chunks === n.chunker.chunks;
      res.sameTopK = w.topk.checksum === n.topk.checksum;
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
  const r = await benchRag({ quick: argv.includes("--quick"), native: opt("--native", RAG_NATIVE), wasm: opt("--wasm", RAG_WASM) });
  console.log(JSON.stringify(r, null, 2));
}
