// The visitor's chat widget: one <script src="https://your-server/widget.js" data-project="PROJECT_ID">
// tag (or window.tiledeskSettings = {projectid: "..."} before it) opens a chat bubble. The visitor is
// signed in anonymously; the token and the conversation are kept in localStorage, so that a reload
// shows the same conversation. Replies arrive live over the server's websocket.
(function () {
  "use strict";
  var script = document.currentScript;
  var settings = window.tiledeskSettings || {};
  var pid = (script && script.getAttribute("data-project")) || settings.projectid || "";
  if (!/^[0-9a-fA-F]{24}$/.test(pid)) {
    console.warn("tiledesk widget: no project id (data-project on the script tag, or tiledeskSettings.projectid)");
    return;
  }
  var api = script ? new URL(script.src, location.href).origin : location.origin;
  var store = {
    get: function (k) { try { return localStorage.getItem("tiledesk:" + pid + ":" + k); } catch (e) { return null; } },
    set: function (k, v) { try { localStorage.setItem("tiledesk:" + pid + ":" + k, v); } catch (e) { /* private mode */ } },
    del: function (k) { try { localStorage.removeItem("tiledesk:" + pid + ":" + k); } catch (e) { /* private mode */ } }
  };
  var state = { token: store.get("token"), user: store.get("user"), rid: store.get("request"), seen: {}, socket: null, subscribed: false };

  function call(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = state.token;
    return fetch(api + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) { var e = new Error(j.msg || j.message || j.error || ("HTTP " + r.status)); e.status = r.status; throw e; }
          return j;
        });
      });
  }

  // signIn signs the visitor in once, however many callers wait for it.
  var signing = null;
  function signIn() {
    if (state.token) return Promise.resolve();
    if (!signing) {
      signing = call("POST", "/auth/signinAnonymously", { id_project: pid }).then(function (j) {
        state.token = j.token; state.user = j.user._id || j.user.id;
        store.set("token", state.token); store.set("user", state.user);
        signing = null;
      }, function (e) { signing = null; throw e; });
    }
    return signing;
  }

  // The widget lives in a shadow root: the page's styles do not reach it, nor its styles the page.
  var host = document.createElement("div");
  host.setAttribute("data-tiledesk-widget", "");
  var root = host.attachShadow({ mode: "open" });
  var sheet = new CSSStyleSheet();
  sheet.replaceSync([
    ":host{all:initial;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433}",
    ".bubble{position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;background:#2563eb;color:#fff;display:flex;align-items:center;justify-content:center;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}",
    ".bubble:focus-visible,.send:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:92px;width:360px;max-width:calc(100vw - 24px);height:520px;max-height:calc(100vh - 120px);display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 10px 30px rgba(0,0,0,.25);overflow:hidden;z-index:2147483000}",
    ".panel[hidden]{display:none}",
    "header{background:#2563eb;color:#fff;padding:14px 16px}",
    "header h2{margin:0;font-size:17px}",
    ".status{font-size:13px;opacity:.9}",
    ".status::before{content:'';display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:6px;background:#9ca3af}",
    ".status.online::before{background:#22c55e}",
    "ol{list-style:none;margin:0;padding:12px;flex:1;overflow-y:auto;background:#f6f7fb}",
    "li{margin:6px 0;display:flex;flex-direction:column;align-items:flex-start}",
    "li.mine{align-items:flex-end}",
    ".text{max-width:80%;padding:8px 12px;border-radius:14px;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.08);white-space:pre-wrap;word-wrap:break-word}",
    "li.mine .text{background:#2563eb;color:#fff}",
    ".who{font-size:12px;color:#6b7280;margin:0 6px 2px}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb}",
    "textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:10px;padding:8px;font:inherit;height:40px}",
    ".send{border:0;border-radius:10px;background:#2563eb;color:#fff;padding:0 14px;font:inherit;cursor:pointer}",
    ".error{color:#b91c1c;font-size:13px;padding:0 12px 8px}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100vh;max-height:100vh;border-radius:0}}"
  ].join("\n"));
  root.adoptedStyleSheets = [sheet];

  // chatIcon is a speech bubble drawn in SVG (an emoji would depend on the visitor's fonts).
  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "28"); svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  }
  var bubble = el("button", { "class": "bubble", type: "button", "aria-label": "Open the chat", "aria-expanded": "false" });
  bubble.appendChild(chatIcon());
  var panel = el("section", { "class": "panel", role: "dialog", "aria-label": "Chat with us", hidden: "" });
  var header = el("header");
  header.appendChild(el("h2", {}, settings.widgetTitle || "Chat with us"));
  var status = el("div", { "class": "status", role: "status" }, "…");
  header.appendChild(status);
  var list = el("ol", { "aria-label": "Messages", "aria-live": "polite" });
  var error = el("div", { "class": "error", role: "alert" });
  var form = el("form");
  var input = el("textarea", { "aria-label": "Your message", placeholder: "Write a message…", rows: "1" });
  var send = el("button", { "class": "send", type: "submit" }, "Send");
  form.appendChild(input); form.appendChild(send);
  panel.appendChild(header); panel.appendChild(list); panel.appendChild(error); panel.appendChild(form);
  root.appendChild(panel); root.appendChild(bubble);

  function show(m) {
    if (!m || !m._id || state.seen[m._id]) return;
    state.seen[m._id] = true;
    var mine = m.sender === state.user;
    var li = el("li", { "class": mine ? "mine" : "theirs", "data-message-id": m._id });
    if (!mine) li.appendChild(el("span", { "class": "who" }, m.senderFullname || m.sender_fullname || "Agent"));
    li.appendChild(el("span", { "class": "text" }, m.text || ""));
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  }

  // The websocket follows the conversation's messages: a snapshot of those so far, then each new one.
  function connect() {
    if (state.socket || !state.token) return;
    var ws = new WebSocket(api.replace(/^http/, "ws") + "/?token=" + encodeURIComponent(state.token));
    state.socket = ws;
    var beat = setInterval(function () {
      if (ws.readyState === 1) ws.send(JSON.stringify({ action: "heartbeat", payload: { message: { text: "ping" } } }));
    }, 25000);
    ws.onopen = function () { state.subscribed = false; subscribe(); };
    ws.onmessage = function (ev) {
      var f; try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.action === "heartbeat" && f.payload && f.payload.message && f.payload.message.text === "ping") {
        ws.send(JSON.stringify({ action: "heartbeat", payload: { message: { text: "pong" } } }));
        return;
      }
      if (f.action !== "publish" || !f.payload) return;
      var msg = f.payload.message;
      if (Array.isArray(msg)) msg.forEach(show); else show(msg);
    };
    ws.onclose = function () {
      clearInterval(beat); state.socket = null; state.subscribed = false;
      setTimeout(connect, 2000);
    };
  }
  function subscribe() {
    var ws = state.socket;
    if (!state.rid || !ws || ws.readyState !== 1 || state.subscribed) return;
    state.subscribed = true;
    ws.send(JSON.stringify({ action: "subscribe", payload: { topic: "/" + pid + "/requests/" + state.rid + "/messages" } }));
  }

  function availability() {
    call("GET", "/" + pid + "/widgets").then(function (w) {
      var online = (w.user_available || []).length > 0;
      status.textContent = online ? "We're online" : "We're away: leave a message";
      status.className = online ? "status online" : "status";
    }).catch(function () { status.textContent = ""; });
  }

  function newRequestID() {
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return "support-group-" + pid + "-" + Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    send.disabled = true; error.textContent = "";
    signIn().then(function () {
      var rid = state.rid || newRequestID();
      return call("POST", "/" + pid + "/requests/" + rid + "/messages", { text: text }).then(function (m) {
        input.value = "";
        if (!state.rid) { state.rid = rid; store.set("request", rid); }
        show(m); connect(); subscribe();
      });
    }).catch(function (e) {
      if (e.status === 401) { state.token = null; store.del("token"); }
      error.textContent = "Your message was not sent: " + e.message;
    }).then(function () { send.disabled = false; input.focus(); });
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
  function toggle(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? "Close the chat" : "Open the chat");
    // Signing in as the panel opens takes it off the first message's way.
    if (open) { availability(); input.focus(); signIn().then(connect).catch(function () { /* retried on send */ }); }
  }
  bubble.addEventListener("click", function () { toggle(panel.hidden); });
  panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { toggle(false); bubble.focus(); } });

  function start() {
    document.body.appendChild(host);
    if (state.rid) connect();
    if (settings.open || store.get("open") === "1") toggle(true);
  }
  window.addEventListener("pagehide", function () { store.set("open", panel.hidden ? "0" : "1"); });
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
