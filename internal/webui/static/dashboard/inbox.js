// The inbox: the open conversations, live from the /<pid>/requests topic, in three tabs
// (unassigned, mine, all), and the conversation open beside them with its messages live, the reply
// box, and what an agent does to a conversation.
import { api, session } from "./client.js";
import { h, main, toast, when } from "./dom.js";
import { Unread } from "./unread.js";

const UNASSIGNED = 100, CLOSED = 1000;
const tabs = [["unassigned", "Unassigned"], ["mine", "Mine"], ["all", "All open"]];

// The inbox's state lives across route changes of one project.
let state = null;

// Coming back to the browser tab reads the conversation on screen.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state?.onVisible) state.onVisible();
});

function myID() {
  return session.user?._id || session.user?.id;
}

function inTab(r, tab) {
  if (r.status >= CLOSED) return false;
  if (tab === "unassigned") return r.status === UNASSIGNED;
  if (tab === "mine") return (r.participants || []).includes(myID());
  return true;
}

function visitorName(r) {
  return r.lead?.fullname || r.lead?.email || r.requester?.id_user?.firstname || "Visitor";
}

function lastText(r) {
  return r.attributes?.last_message?.text || r.first_text || "";
}

export async function inboxView(ctx, live, rest) {
  if (!state || state.pid !== ctx.id) {
    state = { pid: ctx.id, conversations: new Map(), tab: "all", unread: new Unread(ctx.id) };
  }
  const open = rest[0] ? decodeURIComponent(rest[0]) : null;
  if (open) state.unread.read(open);
  state.onVisible = () => {
    if (open && list.isConnected) {
      state.unread.read(open);
      renderList();
    }
  };
  const tabButtons = tabs.map(([id, label]) => h("button", {
    type: "button", role: "tab", id: "tab-" + id, "aria-controls": "conversations",
    onclick: () => { state.tab = id; renderList(); },
  }, label, " ", h("span", { class: "count" }, "0")));
  const list = h("ul", { class: "convs", id: "conversations", role: "tabpanel", "aria-label": "Conversations" });
  const convPane = h("section", { class: "pane conv-pane", "aria-label": "Conversation" },
    h("p", { class: "empty" }, "Pick a conversation. To start one as a visitor, open the ",
      h("a", { href: `/demo/${ctx.id}`, target: "_blank", rel: "noopener" }, "demo page"),
      " in another window and write in its chat bubble."));
  const sidePane = h("aside", { class: "pane side-pane side", "aria-label": "Visitor" });
  const layout = h("div", { class: "inbox" + (open ? " open" : "") },
    h("section", { class: "pane list-pane", "aria-label": "Conversation list" },
      h("div", { class: "tabs", role: "tablist", "aria-label": "Filter" }, tabButtons), list),
    convPane, sidePane);
  main(layout);

  function renderList() {
    tabs.forEach(([id], i) => {
      tabButtons[i].setAttribute("aria-selected", String(state.tab === id));
      tabButtons[i].querySelector(".count").textContent =
        [...state.conversations.values()].filter((r) => inTab(r, id)).length;
    });
    const rows = [...state.conversations.values()].filter((r) => inTab(r, state.tab))
      .sort((a, b) => String(b.updatedAt).localeCompare(String(a.updatedAt)));
    const unread = state.unread.total([...state.conversations.keys()]);
    document.title = (unread ? `(${unread}) ` : "") + "Tiledesk inbox";
    if (!rows.length) {
      list.replaceChildren(h("li", { class: "empty" }, "No conversation here."));
      return;
    }
    list.replaceChildren(...rows.map((r) => {
      const n = state.unread.count(r.request_id);
      return h("li", { "data-request-id": r.request_id, class: n ? "unread" : null }, h("a", {
        href: `#/p/${ctx.id}/inbox/${encodeURIComponent(r.request_id)}`,
        "aria-current": r.request_id === open ? "true" : null,
      },
      h("span", { class: "who" }, visitorName(r),
        n ? h("span", { class: "badge", "aria-label": `${n} unread` }, String(n)) : null,
        h("small", {}, when(r.updatedAt))),
      h("span", { class: "last" }, lastText(r))));
    }));
  }

  // A frame of the project's conversations: the snapshot (an array), or one conversation.
  function onRequests(method, message) {
    const items = Array.isArray(message) ? message : [message];
    for (const r of items) {
      if (!r || !r.request_id) continue;
      if (method === "DELETE") {
        state.conversations.delete(r.request_id);
        state.unread.note(r, false, true);
        continue;
      }
      state.conversations.set(r.request_id, r);
      state.unread.note(r, r.request_id === open && document.visibilityState === "visible", r.status >= CLOSED);
      if (r.request_id === open && conversation) conversation.update(r);
    }
    renderList();
  }

  let conversation = null;
  if (open) {
    conversation = conversationView(ctx, live, open, convPane, sidePane);
  }
  live.subscribe(`/${ctx.id}/requests`, onRequests);
  renderList();
}

// conversationView shows one conversation in pane and its visitor in side, and returns update,
// which redraws them from a newer version of the conversation.
function conversationView(ctx, live, rid, pane, side) {
  const path = `/${ctx.id}/requests/${encodeURIComponent(rid)}`;
  const messages = h("ol", { class: "messages", "aria-label": "Messages", "aria-live": "polite" });
  const seen = new Set();
  const title = h("h2", {}, "…");
  const actions = h("div", { class: "toolbar", role: "group", "aria-label": "Conversation actions" });
  const text = h("textarea", { id: "reply", "aria-label": "Reply", placeholder: "Write a reply… (Enter sends, Shift+Enter for a new line)" });
  const asNote = h("input", { type: "checkbox", id: "as-note" });
  const sendButton = h("button", { class: "primary", type: "submit" }, "Send");
  const compose = h("form", { class: "compose", "aria-label": "Reply" }, text,
    h("label", { for: "as-note" }, asNote, " Internal note"), sendButton);
  pane.replaceChildren(h("div", { class: "conv-head" },
    h("a", { class: "back", href: `#/p/${ctx.id}/inbox` }, "← Back"), title, actions), messages, compose);
  let current = null;

  function showMessage(m) {
    if (!m || !m._id || seen.has(m._id)) return;
    seen.add(m._id);
    const mine = m.sender === (session.user?._id || session.user?.id);
    messages.append(h("li", { class: mine ? "mine" : "theirs", "data-message-id": m._id },
      h("span", { class: "meta" }, `${m.senderFullname || m.sender_fullname || m.sender} · ${when(m.createdAt)}`),
      h("span", { class: "text" }, m.text || "")));
    messages.scrollTop = messages.scrollHeight;
  }

  async function act(method, suffix, body, done) {
    try {
      const r = await api(method, path + suffix, body);
      if (r && r.request_id) update(r);
      if (done) toast(done);
    } catch (e) {
      toast(e.message);
    }
  }

  function update(r) {
    current = r;
    title.textContent = visitorName(r);
    const closed = r.status >= CLOSED;
    const assign = h("select", { id: "assign", "aria-label": "Assign to" },
      h("option", { value: "" }, "Assign to…"),
      ...ctx.team.filter((pu) => pu.role !== "guest" && pu.id_user).map((pu) => h("option", {
        value: pu.id_user._id || pu.id_user, selected: (r.participants || []).includes(pu.id_user._id || pu.id_user) || null,
      }, [pu.id_user.firstname, pu.id_user.lastname].filter(Boolean).join(" ") || pu.id_user.email)));
    assign.addEventListener("change", () => assign.value && act("PUT", "/participants", [assign.value], "Assigned"));
    const dept = h("select", { id: "department", "aria-label": "Department" },
      ...ctx.departments.map((d) => h("option", { value: d._id, selected: d._id === (r.department?._id || r.department) || null }, d.name)));
    dept.addEventListener("change", () => act("PUT", "/departments", { departmentid: dept.value }, "Moved"));
    actions.replaceChildren(assign, dept, closed
      ? h("button", { type: "button", onclick: () => act("PUT", "/reopen", undefined, "Reopened") }, "Reopen")
      : h("button", { type: "button", onclick: () => act("PUT", "/close", undefined, "Closed") }, "Close"));
    compose.hidden = closed;
    renderSide(r);
  }

  function renderSide(r) {
    const lead = r.lead || {};
    const tagInput = h("input", { id: "new-tag", "aria-label": "New tag", placeholder: "Add a tag" });
    const tagForm = h("form", { class: "toolbar" }, tagInput, h("button", { type: "submit" }, "Add"));
    tagForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (tagInput.value.trim()) act("PUT", "/tag", [{ tag: tagInput.value.trim() }]);
    });
    side.replaceChildren(
      h("h3", {}, "Visitor"),
      h("dl", {},
        h("dt", {}, "Name"), h("dd", {}, lead.fullname || "—"),
        h("dt", {}, "Email"), h("dd", {}, lead.email || "—"),
        h("dt", {}, "Started"), h("dd", {}, when(r.createdAt)),
        h("dt", {}, "Page"), h("dd", {}, r.sourcePage || "—"),
        h("dt", {}, "Status"), h("dd", {}, r.status >= CLOSED ? "closed" : r.status === UNASSIGNED ? "unassigned" : "assigned")),
      h("h3", {}, "Tags"),
      h("div", { class: "tags" }, (r.tags || []).map((t) => h("span", { class: "tag" }, t.tag,
        h("button", { type: "button", "aria-label": `Remove tag ${t.tag}`, onclick: () => act("DELETE", `/tag/${encodeURIComponent(t.tag)}`) }, "×")))),
      tagForm,
      h("h3", {}, "Internal notes"),
      h("ul", {}, (r.notes || []).map((n) => h("li", {}, n.text))));
  }

  compose.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = text.value.trim();
    if (!body) return;
    sendButton.disabled = true;
    try {
      if (asNote.checked) {
        update(await api("POST", path + "/notes", { text: body }));
      } else {
        showMessage(await api("POST", path + "/messages", { text: body }));
      }
      text.value = "";
    } catch (e) {
      toast(e.message);
    } finally {
      sendButton.disabled = false;
      text.focus();
    }
  });
  text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      compose.requestSubmit();
    }
  });

  live.subscribe(`/${ctx.id}/requests/${rid}/messages`, (method, message) => {
    (Array.isArray(message) ? message : [message]).forEach(showMessage);
  });
  live.subscribe(`/${ctx.id}/requests/${rid}`, (method, message) => {
    if (method !== "DELETE" && message?.request_id) update(message);
  });
  api("GET", path).then(update).catch((e) => toast(e.message));
  text.focus();
  return { update: (r) => update(r), current: () => current };
}
