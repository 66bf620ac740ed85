// A local HTTP server the Worker under test calls as its "upstream" (runs in vitest's Node process,
// started by vitest.config.js). GET /sse?n=&delayMs= streams n SSE events in the OpenAI chunk shape
// with a pause between them, split across writes at awkward places like a real proxy would, and
// records whether the client hung up early (GET /stats).
import http from "node:http";

export function startUpstream() {
  const stats = { started: 0, completed: 0, aborted: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/stats") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(stats));
      return;
    }
    if (url.pathname !== "/sse") {
      res.writeHead(404).end();
      return;
    }
    stats.started++;
    const n = Number(url.searchParams.get("n") ?? 3);
    const delay = Number(url.searchParams.get("delayMs") ?? 0);
    res.writeHead(200, { "content-type": "text/event-stream" });
    let i = 0;
    let done = false;
    res.on("close", () => { if (!done) stats.aborted++; });
    const tick = () => {
      if (res.destroyed) return;
      if (i === n) {
        done = true;
        stats.completed++;
        res.end("data: [DONE]\n\n");
        return;
      }
      const event = `data: {"choices":[{"delta":{"content":"w${i} "}}]}\n\n`;
      const cut = Math.min(7 + (i % 5), event.length - 1);
      res.write(event.slice(0, cut));
      res.write(event.slice(cut));
      i++;
      setTimeout(tick, delay);
    };
    tick();
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}
