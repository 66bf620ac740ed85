// Measures, inside workerd, what a cold isolate pays before its first request reaches the core:
// new WebAssembly.Instance + _initialize + core_init (js-shim/core.js's Core constructor).
// Workers' clocks only advance at I/O (Spectre mitigation), so single runs cannot be timed here:
// each sample times a batch of `batch` instantiations between two awaited timer turns, and the
// same empty batch (timer turns only) is measured and subtracted.
import wasmModule from "../../js-shim/core.wasm";
import { Core } from "../../js-shim/core.js";

const tick = () => new Promise((r) => setTimeout(r, 0));

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const samples = Number(url.searchParams.get("samples") ?? 15);
    const batch = Number(url.searchParams.get("batch") ?? 40);
    // Does the clock move during synchronous work? (It should not in workerd.)
    const c0 = performance.now();
    let spin = 0;
    for (let i = 0; i < 2e6; i++) spin += i & 1;
    const clockMovesDuringCompute = performance.now() !== c0;
    const perInstance = [], empty = [];
    let keep = null;
    for (let s = 0; s < samples; s++) {
      await tick();
      const t0 = performance.now();
      await tick();
      const t1 = performance.now();
      for (let i = 0; i < batch; i++) keep = new Core(wasmModule, env);
      await tick();
      const t2 = performance.now();
      empty.push(t1 - t0);
      perInstance.push((t2 - t1) / batch);
    }
    const ok = keep.sessions() === 0;
    return Response.json({ clockMovesDuringCompute, samples, batch, perInstance, empty, ok, spin });
  },
};
