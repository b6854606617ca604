// Knowledge search over experiments, analyses, findings and notes
// (GET /api/v1/knowledge/search): hybrid keyword + semantic by default.
import { api } from "../api.js";
import { badge, errorNotice, field, fill, h, num } from "../dom.js";

const MODES = ["hybrid", "keyword", "semantic"];

function link(hit) {
  if (hit.type === "experiment") return `#/experiments/${hit.id}`;
  if (hit.type === "analysis") return `#/analyses/${hit.id}`;
  if (hit.analysis_id) return `#/analyses/${hit.analysis_id}`;
  if (hit.experiment_id) return `#/experiments/${hit.experiment_id}`;
  return null;
}

export async function render(root, ctx) {
  const q = h("input", { type: "search", name: "q", value: ctx.params.get("q") || "", required: true });
  const mode = h(
    "select",
    { name: "mode" },
    MODES.map((m) => h("option", { value: m, selected: (ctx.params.get("mode") || "hybrid") === m }, m)),
  );
  const results = h("div", { class: "search-results" });
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        ctx.go(`#/search?${new URLSearchParams({ q: q.value, mode: mode.value })}`);
      },
    },
    field("Search experiments, analyses, findings and notes", q),
    field("Mode", mode, "hybrid: words and meaning; keyword: the words; semantic: the meaning."),
    h("button", { type: "submit" }, "Search"),
  );
  fill(root, h("h1", {}, "Search"), form, results);
  const text = ctx.params.get("q");
  if (!text) return;
  try {
    const body = await api("/api/v1/knowledge/search", { query: { q: text, mode: mode.value, limit: 20 } });
    fill(
      results,
      h("p", { class: "count", role: "status" }, `${body.results.length} result${body.results.length === 1 ? "" : "s"} for “${body.query}” (${body.mode})`),
      h(
        "ol",
        { class: "hits" },
        body.results.map((hit) => {
          const target = link(hit);
          return h(
            "li",
            { class: "hit" },
            h("p", { class: "hit-title" }, badge(hit.type, "type"), " ",
              target ? h("a", { href: target }, hit.title) : hit.title,
              h("span", { class: "score" }, ` score ${num(hit.score, 3)}`)),
            hit.snippet ? h("p", { class: "snippet" }, hit.snippet) : null,
          );
        }),
      ),
    );
  } catch (error) {
    fill(results, errorNotice(error));
  }
}
