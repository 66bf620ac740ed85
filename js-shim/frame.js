// The JS half of the boundary format (src/core/frame.hpp, src/core/runtime.hpp). Little-endian,
// length-prefixed fields. Strings are UTF-8 written with encodeInto straight into Wasm memory.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

export const FRAME_EFFECTS = 1;
export const FRAME_RESPONSE = 2;

// Writes into a caller-provided Uint8Array (the core's input buffer).
export class FrameWriter {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }
  u8(v) { this.bytes[this.pos++] = v; }
  u32(v) { this.view.setUint32(this.pos, v, true); this.pos += 4; }
  f64(v) { this.view.setFloat64(this.pos, v, true); this.pos += 8; }
  str(s) {
    const start = this.pos + 4;
    let written = 0;
    // Short ASCII (methods, paths, header names and values) is copied by hand: cheaper than an
    // encodeInto call and its subarray. Anything else goes through the encoder.
    if (s.length <= 64) {
      const b = this.bytes;
      for (; written < s.length; written++) {
        const c = s.charCodeAt(written);
        if (c > 0x7f) break;
        b[start + written] = c;
      }
    }
    if (written < s.length) written = encoder.encodeInto(s, this.bytes.subarray(start)).written;
    this.view.setUint32(this.pos, written, true);
    this.pos = start + written;
  }
  raw(u8) {
    this.u32(u8.byteLength);
    this.bytes.set(u8, this.pos);
    this.pos += u8.byteLength;
  }
}

// Upper bound of a string's UTF-8 size (UTF-16 code unit → at most 3 bytes).
export const maxUtf8 = (s) => s.length * 3;

export function envelopeSize(method, path, query, headers, random) {
  let n = 4 + 8 + 4 + random.byteLength + 4 + maxUtf8(method) + 4 + maxUtf8(path) + 4 +
    maxUtf8(query) + 4;
  for (const [k, v] of headers) n += 8 + maxUtf8(k) + maxUtf8(v);
  return n;
}

export function writeEnvelope(w, now, random, method, path, query, headers) {
  w.u32(1); // version
  w.f64(now);
  w.raw(random);
  w.str(method);
  w.str(path);
  w.str(query);
  w.u32(headers.length);
  for (const [k, v] of headers) { w.str(k); w.str(v); }
}

// results: [{ok:true, data: string|Uint8Array} | {ok:false, code, message}]
export function resultsSize(results) {
  let n = 8 + 4;
  for (const r of results) {
    if (r.ok) n += 5 + (typeof r.data === "string" ? maxUtf8(r.data) : r.data.byteLength);
    else n += 9 + maxUtf8(r.code) + maxUtf8(r.message);
  }
  return n;
}

export function writeResults(w, now, results) {
  w.f64(now);
  w.u32(results.length);
  for (const r of results) {
    if (r.ok) {
      w.u8(1);
      if (typeof r.data === "string") w.str(r.data); else w.raw(r.data);
    } else {
      w.u8(0);
      w.str(r.code);
      w.str(r.message);
    }
  }
}

// Short ASCII strings (header names and values, log fields) are built directly: a TextDecoder
// call costs more than the copy for them.
function decodeString(u8) {
  if (u8.length > 64) return decoder.decode(u8);
  let s = "";
  for (let i = 0; i < u8.length; i++) {
    const c = u8[i];
    if (c > 0x7f) return decoder.decode(u8);
    s += String.fromCharCode(c);
  }
  return s;
}

// Reads an output frame from a view of Wasm memory. Strings are decoded at once and the response
// body is copied out: the memory may grow and move with the next core call.
export function readFrame(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const u32 = () => { const v = view.getUint32(pos, true); pos += 4; return v; };
  const slice = () => { const n = u32(); const s = bytes.subarray(pos, pos + n); pos += n; return s; };
  const str = () => decodeString(slice());
  const kind = bytes[pos++];
  const session = u32();
  if (kind === FRAME_EFFECTS) {
    const n = u32();
    const effects = new Array(n);
    for (let i = 0; i < n; i++) effects[i] = { op: str(), payload: str() };
    return { kind, session, effects };
  }
  const status = u32();
  const nh = u32();
  // A plain object: workerd's Response constructor takes one ~3x faster than an array of pairs
  // (measured: the array form cost more than the whole core call). A repeated name (several
  // Set-Cookie) must stay separate, so then the pairs are kept instead.
  let headers = {};
  let pairs = null;
  for (let i = 0; i < nh; i++) {
    const name = str();
    const value = str();
    if (pairs) pairs.push([name, value]);
    else if (Object.hasOwn(headers, name)) {
      pairs = Object.entries(headers);
      pairs.push([name, value]);
    } else headers[name] = value;
  }
  if (pairs) headers = pairs;
  const body = slice().slice(); // copy: the view dies with the next core call
  const log = str();
  // A download streamed from R2 instead of `body`: {key, offset, length} (see Response::r2_body).
  const r2Key = str();
  const u64 = () => { const lo = u32(); return lo + u32() * 2 ** 32; };
  const offset = u64();
  const length = u64();
  const r2 = r2Key ? { key: r2Key, offset, length } : null;
  // A resumable stream's log to pipe instead of `body`: {name, after} (see Response::log_follow).
  const logName = str();
  const logAfter = u32();
  const follow = logName ? { name: logName, after: logAfter } : null;
  return { kind, session, status, headers, body, log, r2, follow };
}
