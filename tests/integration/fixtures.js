// Resources of each kind a route's :id can name (openapi.json's x-edgechat-owner), created through
// the canonical API for the contract fuzzer and the authorization matrix. Each kind says how to
// create one (returning its id) and how its owner reads it back, so a test can check that another
// user's attempt changed nothing.
import { api } from "./helpers.js";

const chatOfMessage = new Map();
const text = "Lighthouses guide ships at night. The keeper trims the lamp at dusk.";

async function created(res, pick) {
  if (res.status >= 300) throw new Error(`fixture: ${res.status} ${res.text}`);
  return pick(res.json);
}

export const KINDS = {
  chat: {
    create: (t) => api("POST", "/api/v1/chats", { token: t, body: { title: "Fixture chat" } })
      .then((r) => created(r, (j) => j.chat.id)),
    read: (t, id) => api("GET", `/api/v1/chats/${id}`, { token: t }),
  },
  message: {
    create: async (t) => {
      const chat = await KINDS.chat.create(t);
      const sent = await api("POST", `/api/v1/chats/${chat}/messages`, {
        token: t,
        body: { content: "Who trims the lamp?" },
      });
      if (sent.status >= 300) throw new Error(`fixture message: ${sent.status} ${sent.text}`);
      const list = await api("GET", `/api/v1/chats/${chat}/messages`, { token: t });
      const id = list.json.messages[0].id;
      chatOfMessage.set(id, chat);
      return id;
    },
    // A message is read through its chat's list.
    read: (t, id) => api("GET", `/api/v1/chats/${chatOfMessage.get(id)}/messages`, { token: t }),
  },
  document: {
    create: (t) => api("POST", "/api/v1/documents", { token: t, body: { title: "Fixture", content: text } })
      .then((r) => created(r, (j) => j.document.id)),
    read: (t, id) => api("GET", `/api/v1/documents/${id}`, { token: t }),
  },
  file: {
    create: (t) => api("POST", "/api/v1/files?filename=fixture.txt", {
      token: t,
      headers: { "content-type": "text/plain" },
      body: text,
    }).then((r) => created(r, (j) => j.file.id)),
    read: (t, id) => api("GET", `/api/v1/files/${id}`, { token: t }),
  },
  api_key: {
    create: (t) => api("POST", "/api/v1/api-keys", { token: t, body: { name: "fixture" } })
      .then((r) => created(r, (j) => j.apiKey.id)),
    read: (t) => api("GET", "/api/v1/api-keys", { token: t }),
  },
  stream: {
    create: (t) => api("POST", "/api/v1/streams", { token: t, body: {} })
      .then((r) => created(r, (j) => j.stream.id)),
    read: null, // a stream is followed, not read: the matrix checks the 404 only
  },
  memory_stream: {
    create: (t) => api("POST", "/api/v1/memory/streams", { token: t, body: { goal: "Fixture goal" } })
      .then((r) => created(r, (j) => j.stream.id)),
    read: (t, id) => api("GET", `/api/v1/memory/streams/${id}`, { token: t }),
  },
  training_example: {
    create: (t) => api("POST", "/api/v1/training-examples", {
      token: t,
      body: {
        source: "rag_chat",
        messages: [{ role: "user", content: "Who trims the lamp?" }],
        output: "The keeper, at dusk.",
      },
    }).then((r) => created(r, (j) => j.example.id)),
    read: (t, id) => api("GET", `/api/v1/training-examples/${id}`, { token: t }),
  },
  job: {
    // A document too large to build inline (INGEST_INLINE_BYTES, 8 KiB in the tests) is built by a
    // job its owner can see.
    create: (t) => api("POST", "/api/v1/documents", {
      token: t,
      body: { title: "Fixture job", content: `${text}\n\n`.repeat(200) },
    }).then((r) => created(r, (j) => j.job.id)),
    read: (t, id) => api("GET", `/api/v1/jobs/${id}`, { token: t }),
  },
};

/** One resource of every kind, owned by `token`'s user: {kind: id}. */
export async function createAll(token) {
  const ids = {};
  for (const [kind, k] of Object.entries(KINDS)) {
    try {
      ids[kind] = await k.create(token);
    } catch (e) {
      throw new Error(`creating a ${kind}: ${e.message}`);
    }
  }
  return ids;
}
