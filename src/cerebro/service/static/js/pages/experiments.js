// The organisation's experiments: status, dates, the latest analysis's headline and what it
// says for the decision; one experiment's details; registering one and moving its status.
import { api } from "../api.js";
import { badge, errorNotice, field, fill, h, num, table, when } from "../dom.js";
import { decision, headlineEstimate, renderResult } from "../results.js";

const STATUSES = ["draft", "running", "stopped", "analysed"];
const NEXT = { draft: "running", running: "stopped", stopped: "analysed" };

async function latest(experiment) {
  const id = experiment.analysis_ids[experiment.analysis_ids.length - 1];
  return id ? api(`/api/v1/analyses/${encodeURIComponent(id)}`) : null;
}

function headline(analysis) {
  if (!analysis) return "no analysis yet";
  if (analysis.status !== "succeeded") return badge(analysis.status);
  const estimate = headlineEstimate(analysis.result);
  const text = estimate
    ? `${estimate.label}: ${num(estimate.value)} (${num(estimate.ci_low)} to ${num(estimate.ci_high)})`
    : analysis.result.summary.title || analysis.kind;
  return h("a", { href: `#/analyses/${analysis.id}` }, text);
}

function verdictCell(analysis) {
  const verdict = analysis && analysis.status === "succeeded" ? decision(analysis.result) : null;
  return verdict ? badge(verdict.text, verdict.kind) : "–";
}

function createForm(ctx, onCreated) {
  const inputs = {
    name: h("input", { type: "text", required: true, maxlength: 300 }),
    treatment_groups: h("input", { type: "text", required: true, placeholder: "B" }),
    control_groups: h("input", { type: "text", placeholder: "control" }),
    randomization_unit: h("input", { type: "text", required: true, placeholder: "user" }),
    start_date: h("input", { type: "date" }),
    end_date: h("input", { type: "date" }),
  };
  const problem = h("div");
  const list = (value) =>
    value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  async function submit(event) {
    event.preventDefault();
    const body = {
      name: inputs.name.value.trim(),
      treatment_groups: list(inputs.treatment_groups.value),
      control_groups: list(inputs.control_groups.value),
      randomization_unit: inputs.randomization_unit.value.trim(),
      start_date: inputs.start_date.value || null,
      end_date: inputs.end_date.value || null,
    };
    try {
      const made = await api("/api/v1/experiments", { method: "POST", body });
      ctx.announce(`Experiment ${made.name} registered.`);
      onCreated(made);
    } catch (error) {
      fill(problem, errorNotice(error));
    }
  }
  return h(
    "details",
    { class: "card" },
    h("summary", {}, "Register an experiment"),
    h(
      "form",
      { onsubmit: submit },
      problem,
      h(
        "div",
        { class: "grid" },
        field("Name", inputs.name),
        field("Treatment groups", inputs.treatment_groups, "Comma-separated arm names."),
        field("Control groups", inputs.control_groups, "Comma-separated arm names."),
        field(
          "Randomisation unit",
          inputs.randomization_unit,
          "What was randomised: user, session, geo…",
        ),
        field("Start date", inputs.start_date),
        field("End date", inputs.end_date),
      ),
      h("button", { type: "submit" }, "Register"),
    ),
  );
}

async function listPage(root, ctx) {
  const q = h("input", { type: "search", name: "q", value: ctx.params.get("q") || "" });
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, "any status"),
    STATUSES.map((s) => h("option", { value: s, selected: ctx.params.get("status") === s }, s)),
  );
  const filter = h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        const query = new URLSearchParams({ q: q.value, status: status.value });
        ctx.go(`#/experiments?${query}`);
      },
    },
    field("Name or description contains", q),
    field("Status", status),
    h("button", { type: "submit" }, "Filter"),
  );
  const body = await api("/api/v1/experiments", {
    query: { q: ctx.params.get("q"), status: ctx.params.get("status"), limit: 50 },
  });
  const latestCells = new Map();
  const cell = (experiment, which) => {
    const node = h("span", { class: "pending" }, "…");
    latestCells.set(`${experiment.id}:${which}`, node);
    return node;
  };
  fill(
    root,
    h("h1", {}, "Experiments"),
    ctx.caps.manage ? createForm(ctx, (made) => ctx.go(`#/experiments/${made.id}`)) : null,
    filter,
    h("p", { class: "count" }, `${body.total} experiment${body.total === 1 ? "" : "s"}`),
    table(
      "The organisation's experiments, newest first",
      [
        ["Name", (e) => h("a", { href: `#/experiments/${e.id}` }, e.name)],
        ["Status", (e) => badge(e.status)],
        ["Start", (e) => e.start_date || "–"],
        ["End", (e) => e.end_date || "–"],
        ["Unit", (e) => e.randomization_unit],
        ["Latest result", (e) => cell(e, "result")],
        ["Decision", (e) => cell(e, "decision")],
      ],
      body.items,
      "No experiments match.",
    ),
  );
  await Promise.all(
    body.items.map(async (experiment) => {
      let analysis = null;
      try {
        analysis = await latest(experiment);
      } catch {
        analysis = null;
      }
      fill(latestCells.get(`${experiment.id}:result`), headline(analysis));
      fill(latestCells.get(`${experiment.id}:decision`), verdictCell(analysis));
    }),
  );
}

async function detailPage(root, ctx) {
  const experiment = await api(`/api/v1/experiments/${encodeURIComponent(ctx.id)}`);
  const problem = h("div");
  const next = NEXT[experiment.status];
  const move = async () => {
    try {
      await api(`/api/v1/experiments/${experiment.id}`, {
        method: "PATCH",
        body: { status: next },
      });
      ctx.announce(`Experiment ${experiment.name} is now ${next}.`);
      ctx.go(`#/experiments/${experiment.id}`);
    } catch (error) {
      fill(problem, errorNotice(error));
    }
  };
  const analyses = await Promise.all(
    experiment.analysis_ids.map((id) => api(`/api/v1/analyses/${encodeURIComponent(id)}`)),
  );
  const last = analyses[analyses.length - 1];
  fill(
    root,
    h(
      "p",
      { class: "crumbs" },
      h("a", { href: "#/experiments" }, "Experiments"),
      " / ",
      experiment.name,
    ),
    h("h1", {}, experiment.name, " ", badge(experiment.status)),
    experiment.description ? h("p", {}, experiment.description) : null,
    problem,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Treatment groups"),
      h("dd", {}, experiment.treatment_groups.join(", ")),
      h("dt", {}, "Control groups"),
      h("dd", {}, experiment.control_groups.join(", ") || "–"),
      h("dt", {}, "Randomisation unit"),
      h("dd", {}, experiment.randomization_unit),
      h("dt", {}, "Dates"),
      h("dd", {}, `${experiment.start_date || "–"} to ${experiment.end_date || "–"}`),
      h("dt", {}, "Registered"),
      h("dd", {}, when(experiment.created_at)),
      h("dt", {}, "Datasets"),
      h(
        "dd",
        {},
        experiment.dataset_ids.length
          ? experiment.dataset_ids.map((id) =>
              h("a", { href: `#/datasets/${id}`, class: "id" }, id),
            )
          : "–",
      ),
    ),
    ctx.caps.manage && next
      ? h("button", { type: "button", onclick: move }, `Move to ${next}`)
      : null,
    ctx.caps.run
      ? h(
          "a",
          { class: "button secondary", href: `#/new?experiment=${experiment.id}` },
          "New analysis for this experiment",
        )
      : null,
    h("h2", {}, "Analyses"),
    table(
      "Analyses of this experiment, oldest first",
      [
        ["Analysis", (a) => h("a", { href: `#/analyses/${a.id}` }, a.kind)],
        ["Status", (a) => badge(a.status)],
        ["Finished", (a) => when(a.finished_at)],
        ["Decision", verdictCell],
      ],
      analyses,
      "No analysis is linked to this experiment yet.",
    ),
    last && last.status === "succeeded"
      ? h("section", { class: "card" }, renderResult(last.result, 2))
      : null,
  );
}

export function render(root, ctx) {
  return ctx.id ? detailPage(root, ctx) : listPage(root, ctx);
}
