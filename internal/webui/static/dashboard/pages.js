// The inbox's other pages: leads with search, and for admins the teammates and the departments.
import { api } from "./client.js";
import { h, main, toast, when } from "./dom.js";

function table(caption, head, rows) {
  return h("table", {}, h("caption", { class: "sr" }, caption),
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: head.length, class: "empty" }, "Nothing yet."))));
}

export async function leadsView(ctx) {
  const q = h("input", { id: "lead-search", type: "search", "aria-label": "Search leads", placeholder: "Name or email" });
  const form = h("form", { class: "toolbar", role: "search" }, q, h("button", { type: "submit" }, "Search"));
  const out = h("div");
  const status = h("p", { role: "status" });
  main(h("h1", {}, "Leads"), form, status, out);
  async function load() {
    const params = new URLSearchParams({ limit: "50" });
    if (q.value.trim()) params.set("full_text", q.value.trim());
    const r = await api("GET", `/${ctx.id}/leads?${params}`);
    status.textContent = `${r.count} lead${r.count === 1 ? "" : "s"}`;
    out.replaceChildren(table("Leads", ["Name", "Email", "Created"], r.leads.map((l) =>
      h("tr", {}, h("td", {}, l.fullname || "—"), h("td", {}, l.email || "—"), h("td", {}, when(l.createdAt))))));
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    load().catch((e) => toast(e.message));
  });
  await load();
  q.focus();
}

export async function teamView(ctx) {
  const email = h("input", { id: "invite-email", type: "email", required: "", "aria-label": "Email", placeholder: "teammate@example.com" });
  const role = h("select", { id: "invite-role", "aria-label": "Role" }, h("option", { value: "agent" }, "Agent"), h("option", { value: "admin" }, "Admin"));
  const form = h("form", { class: "toolbar", "aria-label": "Invite a teammate" }, email, role, h("button", { class: "primary", type: "submit" }, "Invite"));
  const out = h("div");
  main(h("h1", {}, "Teammates"), form, out);
  async function load() {
    ctx.team = await api("GET", `/${ctx.id}/project_users`);
    out.replaceChildren(table("Teammates", ["Name", "Email", "Role", "Available"], ctx.team.filter((pu) => pu.id_user).map((pu) =>
      h("tr", {}, h("td", {}, [pu.id_user.firstname, pu.id_user.lastname].filter(Boolean).join(" ") || "—"),
        h("td", {}, pu.id_user.email || "—"), h("td", {}, pu.role), h("td", {}, pu.user_available ? "yes" : "no")))));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("POST", `/${ctx.id}/project_users/invite`, { email: email.value, role: role.value });
      toast(r.pendingInvitation ? "Invitation sent" : "Teammate added");
      email.value = "";
      await load();
    } catch (e) {
      toast(e.message);
    }
  });
  await load();
}

export async function departmentsView(ctx) {
  const name = h("input", { id: "department-name", required: "", "aria-label": "Department name", placeholder: "Sales" });
  const form = h("form", { class: "toolbar", "aria-label": "New department" }, name, h("button", { class: "primary", type: "submit" }, "Create"));
  const out = h("div");
  main(h("h1", {}, "Departments"), form, out);
  async function load() {
    ctx.departments = await api("GET", `/${ctx.id}/departments/allstatus`);
    out.replaceChildren(table("Departments", ["Name", "Routing", ""], ctx.departments.map((d) =>
      h("tr", {}, h("td", {}, d.name, d.default ? " (default)" : ""), h("td", {}, d.routing || ""),
        h("td", {}, d.default ? "" : h("button", {
          type: "button", "aria-label": `Delete ${d.name}`,
          onclick: async () => {
            try {
              await api("DELETE", `/${ctx.id}/departments/${d._id}`);
              await load();
            } catch (e) {
              toast(e.message);
            }
          },
        }, "Delete"))))));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", `/${ctx.id}/departments`, { name: name.value });
      name.value = "";
      await load();
    } catch (e) {
      toast(e.message);
    }
  });
  await load();
  name.focus();
}
