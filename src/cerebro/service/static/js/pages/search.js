// Knowledge search over experiments, analyses, findings and notes
// (GET /api/v1/knowledge/search): hybrid keyword + semantic by default.
import { api } from "../api.js";
import { badge, errorNotice, field, fill, h, num, notice } from "../dom.js";

const MODES = ["hybrid", "keyword", "semantic"];

function link(hit) {
  if (hit.type === "experiment") return `#/experiments/${hit.id}`;
  if (hit.type === "analysis") return `#/analyses/${hit.id}`;
  if (hit.analysis_id) return `#/analyses/${hit.analysis_id}`;
  if (hit.experiment_id) return `#/experiments/${hit.experiment_id}`;
  return null;
}

/** Write a note (POST /api/v1/knowledge/notes): what was learned, in words the search finds. */
async function noteForm(ctx) {
  const title = h("input", { type: "text", name: "title", required: true, maxlength: 300 });
  const body = h("textarea", { name: "body", rows: 4, required: true, maxlength: 20000 });
  const experiment = h("select", { name: "experiment_id" }, h("option", { value: "" }, "none"));
  if (ctx.caps.results) {
    const { items } = await api("/api/v1/experiments", { query: { limit: 200 } });
    for (const e of items) experiment.append(h("option", { value: e.id }, e.name));
  }
  const problem = h("div");
  async function submit(event) {
    event.preventDefault();
    const note = {
      title: title.value.trim(),
      body: body.value.trim(),
      experiment_id: experiment.value || null,
    };
    try {
      const made = await api("/api/v1/knowledge/notes", { method: "POST", body: note });
      fill(problem, notice("success", `Note “${made.title}” saved; the search finds it.`));
      title.value = "";
      body.value = "";
      ctx.announce("Note saved.");
    } catch (error) {
      fill(problem, errorNotice(error));
    }
  }
  return h(
    "details",
    { class: "card" },
    h("summary", {}, "Write a note"),
    h(
      "form",
      { onsubmit: submit },
      problem,
      h(
        "div",
        { class: "grid" },
        field("Title", title),
        field("About the experiment (optional)", experiment),
      ),
      field("Note", body, "What was learned, decided or should be checked."),
      h("button", { type: "submit" }, "Save the note"),
    ),
  );
}

export async function render(root, ctx) {
  const q = h("input", {
    type: "search",
    name: "q",
    value: ctx.params.get("q") || "",
    required: true,
  });
  const mode = h(
    "select",
    { name: "mode" },
    MODES.map((m) =>
      h("option", { value: m, selected: (ctx.params.get("mode") || "hybrid") === m }, m),
    ),
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
  fill(root, h("h1", {}, "Search"), form, results, ctx.caps.notes ? await noteForm(ctx) : null);
  const text = ctx.params.get("q");
  if (!text) return;
  try {
    const body = await api("/api/v1/knowledge/search", {
      query: { q: text, mode: mode.value, limit: 20 },
    });
    fill(
      results,
      h(
        "p",
        { class: "count", role: "status" },
        `${body.results.length} result${body.results.length === 1 ? "" : "s"} for “${body.query}” (${body.mode})`,
      ),
      h(
        "ol",
        { class: "hits" },
        body.results.map((hit) => {
          const target = link(hit);
          return h(
            "li",
            { class: "hit" },
            h(
              "p",
              { class: "hit-title" },
              badge(hit.type, "type"),
              " ",
              target ? h("a", { href: target }, hit.title) : hit.title,
              h("span", { class: "score" }, ` score ${num(hit.score, 3)}`),
            ),
            hit.snippet ? h("p", { class: "snippet" }, hit.snippet) : null,
          );
        }),
      ),
    );
  } catch (error) {
    fill(results, errorNotice(error));
  }
}
