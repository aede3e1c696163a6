// The server's REST API and websocket, as the inbox uses them.

export const session = {
  token: localStorage.getItem("tiledesk:token"),
  user: JSON.parse(localStorage.getItem("tiledesk:user") || "null"),
  save(token, user) {
    this.token = token;
    this.user = user;
    localStorage.setItem("tiledesk:token", token);
    localStorage.setItem("tiledesk:user", JSON.stringify(user));
  },
  clear() {
    this.token = null;
    this.user = null;
    localStorage.removeItem("tiledesk:token");
    localStorage.removeItem("tiledesk:user");
  },
};

// api calls the REST API; a non-2xx answer throws an Error carrying the server's message and status.
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session.token) headers.Authorization = session.token;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = new Error(j.msg || j.message || j.error || `The server answered ${r.status}`);
    e.status = r.status;
    throw e;
  }
  return j;
}

// Live is the websocket: subscriptions by topic, each with a handler of its frames
// (method, message); it reconnects and subscribes again, resuming from the last frame's seq.
export class Live {
  constructor() {
    this.handlers = new Map();
    this.seqs = new Map();
    this.ws = null;
    this.token = null;
    this.beat = null;
  }

  connect(token) {
    if (this.ws && this.token === token) return;
    this.close();
    this.token = token;
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    ws.onopen = () => {
      for (const topic of this.handlers.keys()) this.send(topic);
    };
    ws.onmessage = (ev) => this.frame(ev.data);
    ws.onclose = () => {
      clearInterval(this.beat);
      if (this.ws === ws) {
        this.ws = null;
        setTimeout(() => this.token && !this.ws && this.connect(this.token), 2000);
      }
    };
    this.beat = setInterval(() => this.raw({ action: "heartbeat", payload: { message: { text: "ping" } } }), 25000);
  }

  close() {
    clearInterval(this.beat);
    const ws = this.ws;
    this.ws = null;
    this.token = null;
    if (ws) ws.close();
  }

  raw(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  send(topic) {
    const payload = { topic };
    if (this.seqs.has(topic)) payload.since = this.seqs.get(topic);
    this.raw({ action: "subscribe", payload });
  }

  subscribe(topic, handler) {
    this.handlers.set(topic, handler);
    this.seqs.delete(topic);
    this.send(topic);
  }

  unsubscribeAll() {
    for (const topic of this.handlers.keys()) this.raw({ action: "unsubscribe", payload: { topic } });
    this.handlers.clear();
    this.seqs.clear();
  }

  frame(data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      return;
    }
    if (f.action === "heartbeat" && f.payload?.message?.text === "ping") {
      this.raw({ action: "heartbeat", payload: { message: { text: "pong" } } });
      return;
    }
    if (f.action !== "publish" || !f.payload) return;
    const { topic, method, message, seq } = f.payload;
    const handler = this.handlers.get(topic);
    if (!handler) return;
    if (typeof seq === "number") this.seqs.set(topic, seq);
    handler(method, message);
  }
}
