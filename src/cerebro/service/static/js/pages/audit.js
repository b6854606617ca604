// The audit log, for admins: who did what to which object, when and from where.
import { api } from "../api.js";
import { field, fill, h, when, table } from "../dom.js";

const PAGE = 100;

export async function render(root, ctx) {
  const action = h("input", {
    type: "text",
    name: "action",
    value: ctx.params.get("action") || "",
    placeholder: "dataset.read",
  });
  const since = h("input", { type: "date", name: "since", value: ctx.params.get("since") || "" });
  const offset = Number(ctx.params.get("offset") || 0);
  const filter = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        ctx.go(
          `#/audit?${new URLSearchParams({ action: action.value.trim(), since: since.value })}`,
        );
      },
    },
    field("Action", action, "e.g. dataset.create, analysis.submit"),
    field("Since", since),
    h("button", { type: "submit" }, "Filter"),
  );
  const body = await api("/api/v1/audit", {
    query: {
      action: ctx.params.get("action"),
      since: ctx.params.get("since"),
      limit: PAGE,
      offset,
    },
  });
  const page = (to) => {
    const params = new URLSearchParams(ctx.params);
    params.set("offset", to);
    return `#/audit?${params}`;
  };
  fill(
    root,
    h("h1", {}, "Audit log"),
    filter,
    table(
      "Who did what, newest first",
      [
        ["When", (e) => when(e.at), "nowrap"],
        ["Who", (e) => e.user || e.user_id || "–"],
        ["Action", (e) => h("code", {}, e.action)],
        [
          "Object",
          (e) => (e.object_id ? `${e.object_type} ${e.object_id.slice(0, 8)}` : e.object_type),
        ],
        ["From", (e) => e.ip || "–"],
        [
          "Detail",
          (e) => (e.detail && Object.keys(e.detail).length ? JSON.stringify(e.detail) : ""),
          "wrap",
        ],
      ],
      body.items,
      "No entries match.",
    ),
    h(
      "nav",
      { class: "pager", "aria-label": "Audit pages" },
      offset > 0 ? h("a", { href: page(Math.max(0, offset - PAGE)) }, "Newer") : null,
      body.items.length === PAGE ? h("a", { href: page(offset + PAGE) }, "Older") : null,
    ),
  );
}
