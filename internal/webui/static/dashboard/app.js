// The agent inbox: a small single-page app over the server's own REST API and websocket, with no
// build step. Views are plain functions that render into <main>; the hash is the route.
import { api, session, Live } from "./client.js";
import { inboxView } from "./inbox.js";
import { leadsView, teamView, departmentsView } from "./pages.js";
import { h, main, toast } from "./dom.js";

const live = new Live();

function signInView(signup) {
  const err = h("p", { class: "error", role: "alert" });
  const fields = signup
    ? [["firstname", "First name", "text", "given-name"], ["lastname", "Last name", "text", "family-name"]]
    : [];
  fields.push(["email", "Email", "email", "email"], ["password", "Password", "password", signup ? "new-password" : "current-password"]);
  const form = h("form", { class: "card", "aria-labelledby": "auth-title" },
    h("h1", { id: "auth-title" }, signup ? "Create your account" : "Sign in"),
    ...fields.map(([name, label, type, auto]) => h("div", { class: "field" },
      h("label", { for: "f-" + name }, label),
      h("input", { id: "f-" + name, name, type, autocomplete: auto, required: "" }))),
    err,
    h("button", { class: "primary", type: "submit" }, signup ? "Sign up" : "Sign in"),
    h("p", {}, signup ? "Already have an account? " : "New here? ",
      h("a", { href: signup ? "#/signin" : "#/signup" }, signup ? "Sign in" : "Create an account")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    err.textContent = "";
    try {
      if (signup) await api("POST", "/auth/signup", body);
      const r = await api("POST", "/auth/signin", { email: body.email, password: body.password });
      session.save(r.token, r.user);
      location.hash = "#/projects";
    } catch (e) {
      err.textContent = e.message;
    }
  });
  main(form);
  form.querySelector("input").focus();
}

async function projectsView() {
  const list = h("ul", { class: "projects" });
  const err = h("p", { class: "error", role: "alert" });
  const name = h("input", { id: "f-project", name: "name", required: "", autocomplete: "off" });
  const form = h("form", { class: "toolbar", "aria-label": "New project" },
    h("label", { for: "f-project" }, "New project"), name, h("button", { class: "primary", type: "submit" }, "Create"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const p = await api("POST", "/projects", { name: name.value });
      location.hash = `#/p/${p._id}/inbox`;
    } catch (e) {
      err.textContent = e.message;
    }
  });
  main(h("section", { class: "card", "aria-labelledby": "projects-title" },
    h("h1", { id: "projects-title" }, "Your projects"), list, form, err));
  const memberships = await api("GET", "/projects");
  if (!memberships.length) list.append(h("li", { class: "empty" }, "No project yet: create one."));
  for (const m of memberships) {
    const p = m.id_project || {};
    list.append(h("li", {}, h("a", { href: `#/p/${p._id}/inbox` }, p.name || p._id), ` (${m.role})`));
  }
  name.focus();
}

// project loads what every page of a project needs: the caller's membership and the teammates.
const projectCache = new Map();
async function project(pid) {
  if (!projectCache.has(pid)) {
    const load = Promise.all([api("GET", `/projects/${pid}`), api("GET", `/${pid}/project_users/me`),
      api("GET", `/${pid}/project_users`), api("GET", `/${pid}/departments/allstatus`).catch(() => [])])
      .then(([p, me, team, departments]) => ({ id: pid, project: p, me: Array.isArray(me) ? me[0] : me, team, departments }));
    projectCache.set(pid, load);
    load.catch(() => projectCache.delete(pid));
  }
  return projectCache.get(pid);
}

function navFor(ctx, section) {
  const nav = document.getElementById("nav");
  const admin = ["owner", "admin"].includes(ctx.me.role);
  const links = [["inbox", "Inbox"], ["leads", "Leads"]];
  if (admin) links.push(["team", "Teammates"], ["departments", "Departments"]);
  links.push(["projects", "Projects"]);
  nav.replaceChildren(...links.map(([id, label]) => h("a", {
    href: id === "projects" ? "#/projects" : `#/p/${ctx.id}/${id}`,
    "aria-current": id === section ? "page" : null,
  }, label)));
  nav.hidden = false;
  const available = h("input", { type: "checkbox", id: "available" });
  available.checked = !!ctx.me.user_available;
  available.addEventListener("change", async () => {
    try {
      ctx.me = await api("PUT", `/${ctx.id}/project_users`, { user_available: available.checked });
      toast(available.checked ? "You are available" : "You are away");
    } catch (e) {
      available.checked = !available.checked;
      toast(e.message);
    }
  });
  document.getElementById("me").replaceChildren(
    h("label", { for: "available" }, available, "Available"),
    h("span", {}, session.user?.firstname || session.user?.email || ""),
    h("button", { type: "button", onclick: signOut }, "Sign out"));
}

function signOut() {
  session.clear();
  live.close();
  projectCache.clear();
  location.hash = "#/signin";
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  live.unsubscribeAll();
  if (!session.token) {
    document.getElementById("nav").hidden = true;
    document.getElementById("me").replaceChildren();
    return signInView(parts[0] === "signup");
  }
  live.connect(session.token);
  try {
    if (parts[0] !== "p" || !parts[1]) {
      document.getElementById("nav").hidden = true;
      document.getElementById("me").replaceChildren(h("button", { type: "button", onclick: signOut }, "Sign out"));
      return await projectsView();
    }
    const ctx = await project(parts[1]);
    const section = parts[2] || "inbox";
    navFor(ctx, section);
    const views = { inbox: inboxView, leads: leadsView, team: teamView, departments: departmentsView };
    await (views[section] || inboxView)(ctx, live, parts.slice(3));
  } catch (e) {
    if (e.status === 401) return signOut();
    main(h("p", { class: "error", role: "alert" }, e.message));
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("error", (ev) => toast(ev.message));
route();
