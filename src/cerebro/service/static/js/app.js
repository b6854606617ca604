// The dashboard's shell: sign-in, what the token may do, the navigation and a hash router
// (#/experiments, #/analyses/<id>, …) that loads each page's module on first use.
import { api, ApiError, missingRoute, token } from "./api.js";
import { errorNotice, fill, focusHeading, h } from "./dom.js";

const PAGES = [
  { path: "experiments", label: "Experiments", needs: "results", module: "./pages/experiments.js" },
  { path: "datasets", label: "Datasets", needs: "dataRead", module: "./pages/datasets.js" },
  { path: "analyses", label: "Analyses", needs: "results", module: "./pages/analyses.js" },
  { path: "new", label: "New analysis", needs: "run", module: "./pages/new-analysis.js" },
  { path: "designer", label: "Designer", needs: "designer", module: "./pages/designer.js" },
  { path: "search", label: "Search", needs: "search", module: "./pages/search.js" },
  { path: "audit", label: "Audit log", needs: "audit", module: "./pages/audit.js" },
];

// What the token may do, asked without side effects: the service checks the token (401),
// then the permission (403), and only then validates the request and looks objects up – so a
// call on an id that does not exist, with an empty body or an invalid query, answers 403
// without the permission and 404/422 with it, and reads or changes nothing.
const PROBES = {
  results: ["GET", "/api/v1/analyses/-"],
  dataRead: ["GET", "/api/v1/datasets/-"],
  dataWrite: ["POST", "/api/v1/datasets"],
  manage: ["PATCH", "/api/v1/experiments/-"],
  run: ["POST", "/api/v1/analyses/-/cancel"],
  audit: ["GET", "/api/v1/audit?limit=0"],
  search: ["GET", "/api/v1/knowledge/search?q="],
  designer: ["POST", "/api/v1/design/experiment"],
  notes: ["POST", "/api/v1/knowledge/notes"],
};

async function probe([method, path]) {
  try {
    await api(path, { method, body: method === "GET" ? undefined : {} });
    return true;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401 || error.status === 0) throw error;
    if (missingRoute(error) || error.status === 403) return false;
    return true; // 404 for the made-up id, 422 for the empty body: the permission is there
  }
}

async function capabilities() {
  const names = Object.keys(PROBES);
  const answers = await Promise.all(names.map((name) => probe(PROBES[name])));
  return Object.fromEntries(names.map((name, i) => [name, answers[i]]));
}

const state = { caps: null, leave: [] };
const main = () => document.getElementById("main");

export function announce(text) {
  const region = document.getElementById("announce");
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function signOut() {
  token.clear();
  state.caps = null;
  go("#/signin");
}

function renderNav(current) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!state.caps) {
    nav.hidden = true;
    fill(who);
    return;
  }
  nav.hidden = false;
  const links = PAGES.filter((p) => state.caps[p.needs]).map((p) =>
    h(
      "li",
      {},
      h("a", { href: `#/${p.path}`, "aria-current": p.path === current ? "page" : null }, p.label),
    ),
  );
  fill(nav, h("ul", {}, links));
  const shown = `${token.get().slice(0, 8)}…`;
  fill(
    who,
    h("span", { class: "token" }, "Token ", h("code", {}, shown)),
    h("button", { type: "button", class: "secondary", onclick: signOut }, "Sign out"),
  );
}

function signInPage(root, problem) {
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "token-hint",
  });
  const form = h(
    "form",
    { class: "card signin", onsubmit: submit },
    h("h1", {}, "Sign in"),
    problem ? errorNotice(problem) : null,
    h("div", { class: "field" }, h("label", { for: "token" }, "API token"), input),
    h(
      "p",
      { class: "hint", id: "token-hint" },
      "Paste the token that ",
      h("code", {}, "cerebro admin create-user"),
      " printed (it starts with cb_). It is kept in this tab only and sent to this server only.",
    ),
    h("button", { type: "submit" }, "Sign in"),
  );
  async function submit(event) {
    event.preventDefault();
    token.set(input.value.trim());
    try {
      state.caps = await capabilities();
    } catch (error) {
      token.clear();
      signInPage(root, error);
      return;
    }
    const first = PAGES.find((p) => state.caps[p.needs]);
    go(first ? `#/${first.path}` : "#/none");
  }
  fill(root, form);
  input.focus();
}

function parse() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [page = "", id = null] = path.split("/");
  return { page, id: id ? decodeURIComponent(id) : null, params: new URLSearchParams(query) };
}

async function route() {
  if (location.hash && !location.hash.startsWith("#/")) return; // an in-page anchor
  for (const leave of state.leave.splice(0)) leave();
  // each visit renders into a fresh container: a slower earlier page, still loading, writes
  // into its own detached container and never over this one
  const root = h("div", { class: "page" });
  fill(main(), root);
  const { page, id, params } = parse();
  if (!token.get() || page === "signin") {
    state.caps = null;
    renderNav(null);
    signInPage(root);
    return;
  }
  if (!state.caps) {
    try {
      state.caps = await capabilities();
    } catch (error) {
      token.clear();
      state.caps = null;
      renderNav(null);
      signInPage(root, error);
      return;
    }
  }
  const allowed = PAGES.filter((p) => state.caps[p.needs]);
  const chosen = allowed.find((p) => p.path === page) || (page ? null : allowed[0]);
  renderNav(chosen && chosen.path);
  if (!chosen) {
    const known = PAGES.some((p) => p.path === page);
    fill(
      root,
      h("h1", {}, known ? "Not available" : "Page not found"),
      h(
        "p",
        {},
        known
          ? "This token's role does not allow this page, or this server does not offer it."
          : "There is no such page; choose one on the left.",
      ),
    );
    focusHeading(root);
    return;
  }
  fill(root, h("p", { class: "loading" }, "Loading…"));
  const ctx = {
    id,
    params,
    caps: state.caps,
    go,
    announce,
    onLeave: (fn) => state.leave.push(fn),
  };
  try {
    const module = await import(chosen.module);
    await module.render(root, ctx);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut();
      return;
    }
    fill(root, h("h1", {}, chosen.label), errorNotice(error));
  }
  if (root.isConnected) focusHeading(root);
}

document.getElementById("skip").addEventListener("click", (event) => {
  event.preventDefault();
  main().focus();
});
window.addEventListener("hashchange", route);
route();
