// The API's reference page: reads /openapi.json from this server and draws it, with nothing
// loaded from any other host. Operations are grouped by tag, each with who may call it, its
// parameters, its body and its answers; schemas unfold on demand (a conversation's populated
// schema nests deep), and a filter narrows the page to the operations matching its words.

import { h } from "../dashboard/dom.js";

const METHODS = ["get", "post", "put", "patch", "delete"];

let spec = {};

// resolve follows a $ref within the document.
function resolve(s) {
  for (let i = 0; s && s.$ref && i < 32; i++) {
    s = s.$ref.replace(/^#\//, "").split("/")
      .reduce((o, k) => o?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], spec);
  }
  return s || {};
}

const refName = (s) => (s && s.$ref ? s.$ref.split("/").pop() : "");

// typeOf names a schema's type in a few words.
function typeOf(s) {
  if (!s) return "any";
  if (s.$ref) return refName(s);
  if ("const" in s) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alts = s.anyOf || s.oneOf;
  if (alts && !s.type) return alts.map(typeOf).join(" or ");
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const named = types.map((t) => (t === "array" ? `array of ${typeOf(s.items)}` : t));
  const name = named.join(" | ") || (s.properties ? "object" : "any");
  return s.format ? `${name} (${s.format})` : name;
}

// inline renders a line of a description, with its `code` spans.
function inline(s) {
  return String(s || "").split(/(`[^`]+`)/).map((part) => (part.startsWith("`") && part.endsWith("`") && part.length > 1
    ? h("code", {}, part.slice(1, -1)) : part));
}

// text renders a description: paragraphs of inline text.
function text(s) {
  if (!s) return [];
  return String(s).trim().split(/\n\s*\n/).map((para) => h("p", { class: "desc" }, inline(para)));
}

// nested says whether a schema has fields or alternatives worth unfolding.
function nested(s) {
  const r = resolve(s);
  if (r.type === "array" || (Array.isArray(r.type) && r.type.includes("array"))) return nested(r.items);
  return !!(r.properties || r.anyOf || r.oneOf || r.allOf);
}

// fold draws a schema behind a disclosure, drawn the first time it opens; chain holds the
// components already open above it, which are named rather than drawn again.
function fold(label, s, chain) {
  const d = h("details", {}, h("summary", {}, label));
  d.addEventListener("toggle", () => {
    if (d.open && d.childElementCount === 1) d.append(schemaView(s, chain));
  }, { once: false });
  return d;
}

function schemaView(s, chain = []) {
  const name = refName(s);
  if (name && chain.includes(name)) return h("p", { class: "desc" }, `${name} (as above)`);
  const next = name ? [...chain, name] : chain;
  let r = resolve(s);
  if (r.type === "array" || (Array.isArray(r.type) && r.type.includes("array"))) {
    return h("div", {}, h("p", { class: "type" }, typeOf(r)), r.items ? schemaView(r.items, next) : null);
  }
  const out = h("div", {}, text(r.description));
  const alts = r.anyOf || r.oneOf;
  if (alts) {
    out.append(h("p", { class: "desc" }, r.properties ? "and one of:" : "one of:"),
      h("ul", { class: "schema" }, alts.map((a) => h("li", {},
        nested(a) ? fold(typeOf(a), a, next) : h("span", { class: "type" }, typeOf(a))))));
  }
  const props = Object.entries(r.properties || {});
  if (props.length) {
    const required = new Set(r.required || []);
    out.prepend(h("ul", { class: "schema" }, props.map(([k, v]) => {
      const head = [h("span", { class: "field" }, k), " ", h("span", { class: "type" }, typeOf(v)),
        required.has(k) ? h("span", { class: "req" }, " required") : null];
      const desc = resolve(v).description || v.description;
      return h("li", {}, nested(v) ? fold(head, v, next) : head, desc ? h("span", { class: "desc" }, " — ", inline(desc)) : null);
    })));
  }
  return out;
}

function content(c) {
  return Object.entries(c || {}).map(([type, media]) => h("div", {},
    h("p", { class: "desc" }, h("code", {}, type), " ", h("span", { class: "type" }, typeOf(media.schema))),
    media.schema && nested(media.schema) ? schemaView(media.schema) : null));
}

function opID(method, path, op) {
  return "op-" + (op.operationId || (method + path).replace(/[^A-Za-z0-9]+/g, "-"));
}

function access(op) {
  const security = op.security || spec.security || [];
  const open = !security.length || security.some((s) => !Object.keys(s).length);
  return open ? "Public: no credentials needed." : "Needs credentials: a token (Authorization: JWT …), HTTP Basic, or ?secret_token=.";
}

function operation(method, path, item, op) {
  const params = [...(item.parameters || []), ...(op.parameters || [])].map(resolve);
  const codes = Object.keys(op.responses || {}).sort();
  return h("article", { class: "op", id: opID(method, path, op), "data-search": [method, path, op.summary, op.operationId, ...(op.tags || [])].join(" ").toLowerCase() },
    h("h3", {}, h("span", { class: `method ${method}` }, method.toUpperCase()), h("span", { class: "path" }, path),
      h("span", { class: "summary" }, op.summary || "")),
    h("p", { class: "access" }, access(op)),
    text(op.description),
    params.length ? [h("h4", {}, "Parameters"), h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "In"), h("th", {}, "Type"), h("th", {}, "Description"))),
      h("tbody", {}, params.map((p) => h("tr", {},
        h("td", {}, h("code", {}, p.name), p.required ? h("span", { class: "req" }, " required") : null),
        h("td", {}, p.in), h("td", { class: "type" }, typeOf(p.schema)), h("td", {}, inline(p.description))))))] : null,
    op.requestBody ? [h("h4", {}, "Body", op.requestBody.required ? h("span", { class: "req" }, " required") : null),
      text(resolve(op.requestBody).description), content(resolve(op.requestBody).content)] : null,
    h("h4", {}, "Answers"),
    codes.map((code) => {
      const r = resolve(op.responses[code]);
      const d = h("details", {}, h("summary", {},
        h("span", { class: "status " + (code < "400" ? "ok" : "err") }, code), " ", inline(r.description)));
      d.addEventListener("toggle", () => {
        if (d.open && d.childElementCount === 1) d.append(...content(r.content));
      });
      return d;
    }));
}

function render() {
  const main = document.getElementById("main");
  const toc = document.getElementById("toc-list");
  const byTag = new Map((spec.tags || []).map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags || ["Other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([method, path, item, op]);
    }
  }
  const tagDesc = new Map((spec.tags || []).map((t) => [t.name, t.description]));
  const intro = h("section", { class: "intro" }, h("h1", {}, spec.info?.title || "API"),
    text(spec.info?.description),
    h("p", { class: "desc" }, "Servers: ", (spec.servers || []).map((s) => h("code", {}, s.url)), " · OpenAPI ", spec.openapi));
  const sections = [];
  const tocGroups = [];
  for (const [tag, ops] of byTag) {
    if (!ops.length) continue;
    const id = "tag-" + tag.replace(/[^A-Za-z0-9]+/g, "-");
    sections.push(h("section", { class: "tag", id, "aria-labelledby": id + "-h" },
      h("h2", { id: id + "-h" }, tag), text(tagDesc.get(tag)), ops.map((o) => operation(...o))));
    tocGroups.push(h("div", { class: "toc-group" }, h("h2", {}, tag), h("ul", {}, ops.map(([method, path, , op]) => h("li", { "data-search": [method, path, op.summary, op.operationId, tag].join(" ").toLowerCase() },
      h("a", { href: "#" + opID(method, path, op) }, h("span", { class: `method ${method}` }, method.toUpperCase()), h("span", { class: "path" }, path)))))));
  }
  main.replaceChildren(intro, ...sections);
  toc.replaceChildren(...tocGroups);
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
}

function filter(words) {
  const terms = words.toLowerCase().split(/\s+/).filter(Boolean);
  for (const node of document.querySelectorAll("[data-search]")) {
    node.classList.toggle("hidden", !terms.every((t) => node.dataset.search.includes(t)));
  }
  for (const group of document.querySelectorAll("section.tag, .toc-group")) {
    group.classList.toggle("hidden", !group.querySelector("[data-search]:not(.hidden)"));
  }
}

document.getElementById("filter").addEventListener("input", (ev) => filter(ev.target.value));

fetch("/openapi.json", { headers: { Accept: "application/json" } })
  .then((res) => {
    if (!res.ok) throw new Error(`the description answered ${res.status}`);
    return res.json();
  })
  .then((doc) => {
    spec = doc;
    render();
  })
  .catch((err) => {
    document.getElementById("main").replaceChildren(h("p", { class: "err", role: "alert" }, "The API's description could not be read: " + err.message));
  });
