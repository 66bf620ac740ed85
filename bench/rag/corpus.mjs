// The chunker benchmark's text: deterministic Markdown-ish prose, generated once per run and written
// to a file that the native bench, the Wasm bench and LangChain's splitter all read, so the three
// chunk byte-for-byte the same document.
//
// Shape: sections under `#` / `##` / `###` headings, each with a few paragraphs of 2-9 sentences
// ("\n\n" between paragraphs), now and then a bullet list, a run of short lines, or a paragraph
// of Japanese (no spaces, sentences ending in 。). Words include accented Latin (é, ü, ñ, ß, …),
// so about 1 byte in 10 is outside ASCII. Every character is in the BMP, so LangChain's
// length (UTF-16 code units) and edgechat's (code points) count the same characters.
//
// Run alone: node bench/rag/corpus.mjs OUT.md [bytes]
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const WORDS = (
  "the of and to in is that for it as was with be by on not he this are or his from at which but " +
  "have an they you were her she there been one all we their has would when if so no will more " +
  "about can said up out what them some could into than other time only then its two first new " +
  "these also any may after most over such where through back years much before must right " +
  "system model index vector query document section retrieval embedding token request response " +
  "worker edge latency memory buffer stream chunk overlap boundary sentence paragraph heading " +
  "search ranking score cosine signal archive river mountain village harbour engine library " +
  "language history measure network storage question answer quickly carefully although because " +
  "however therefore meanwhile nevertheless process evidence pattern structure context summary " +
  "café naïve résumé déjà façade über Müller Zürich Straße señor año jalapeño crème brûlée " +
  "garçon fiancée Ångström smörgåsbord Gödel Schrödinger Köln São Paulo Kraków łódź"
).split(" ");
const JA = [
  "日本語の文章は単語の間に空白を入れずに書かれます。",
  "検索拡張生成では文書を小さな断片に分割して索引を作ります。",
  "東京の天気は今日も晴れで、気温は少し高めです。",
  "この段落は区切り文字の扱いを確かめるためのものです！",
  "本当にそうでしょうか？",
  "ベクトルの類似度はコサインで測ります。",
];

// mulberry32: tiny, fast, and the same sequence on every machine.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeCorpus(targetBytes = 10_000_000, seed = 0x5eed) {
  const r = rng(seed);
  const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const sentence = () => {
    const n = int(5, 25);
    const w = [];
    for (let i = 0; i < n; i++) w.push(pick(WORDS));
    w[0] = w[0][0].toUpperCase() + w[0].slice(1);
    if (r() < 0.15) w.splice(int(1, n - 1), 0, `(${pick(WORDS)} ${pick(WORDS)})`);
    if (r() < 0.2) w[int(0, n - 2)] += ",";
    return w.join(" ") + pick([".", ".", ".", ".", "!", "?", ";"].slice(0, r() < 0.9 ? 4 : 7));
  };
  const paragraph = () => {
    const k = r();
    if (k < 0.06) return Array.from({ length: int(2, 7) }, () => `- ${sentence()}`).join("\n");
    if (k < 0.10) return Array.from({ length: int(2, 6) }, () => pick(JA) + pick(JA)).join("");
    if (k < 0.13) return Array.from({ length: int(3, 8) }, () => `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`).join("\n");
    return Array.from({ length: int(2, 9) }, sentence).join(" ");
  };
  const parts = [];
  let bytes = 0;
  let section = 0;
  while (bytes < targetBytes) {
    section++;
    const level = section % 7 === 1 ? 1 : int(2, 3);
    const title = `${"#".repeat(level)} ${section}. ${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`;
    const block = [title];
    for (let i = int(1, 8); i > 0; i--) block.push(paragraph());
    const s = block.join("\n\n") + "\n\n";
    parts.push(s);
    bytes += Buffer.byteLength(s);
  }
  return parts.join("");
}

export function writeCorpus(file, targetBytes) {
  const text = makeCorpus(targetBytes);
  writeFileSync(file, text);
  return { text, bytes: Buffer.byteLength(text), chars: text.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) throw new Error("usage: node bench/rag/corpus.mjs OUT.md [bytes]");
  const { bytes, chars } = writeCorpus(out, Number(process.argv[3] ?? 10_000_000));
  console.log(JSON.stringify({ file: out, bytes, chars }));
}
