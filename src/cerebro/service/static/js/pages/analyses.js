// Analyses: the jobs of the organisation, and one analysis followed while it runs – status,
// progress and step – then its result with the plot and the HTML report.
import { api, blobUrl } from "../api.js";
import { badge, errorNotice, field, fill, h, table, when } from "../dom.js";
import { renderResult } from "../results.js";

const STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"];
const LIVE = new Set(["queued", "running"]);
const POLL_MS = 700;

async function listPage(root, ctx) {
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
      onsubmit: (event) => {
        event.preventDefault();
        ctx.go(`#/analyses?${new URLSearchParams({ status: status.value })}`);
      },
    },
    field("Status", status),
    h("button", { type: "submit" }, "Filter"),
  );
  const body = await api("/api/v1/analyses", {
    query: { status: ctx.params.get("status"), limit: 100 },
  });
  fill(
    root,
    h("h1", {}, "Analyses"),
    ctx.caps.run ? h("a", { class: "button", href: "#/new" }, "New analysis") : null,
    filter,
    h("p", { class: "count" }, `${body.total} analys${body.total === 1 ? "is" : "es"}`),
    table(
      "The organisation's analyses, newest first",
      [
        [
          "Analysis",
          (a) => h("a", { href: `#/analyses/${a.id}` }, `${a.kind} · ${a.id.slice(0, 8)}`),
        ],
        ["Status", (a) => badge(a.status)],
        ["Progress", (a) => progressBar(a)],
        ["Submitted", (a) => when(a.created_at)],
        ["Finished", (a) => when(a.finished_at)],
      ],
      body.items,
      "No analyses yet.",
    ),
  );
}

function progressBar(analysis) {
  const value = analysis.status === "succeeded" ? 1 : analysis.progress || 0;
  const label = `${Math.round(value * 100)}%`;
  return h(
    "span",
    { class: "progress-cell" },
    h("progress", { max: 1, value, "aria-label": `Progress ${label}` }),
    " ",
    label,
  );
}

function reportLink(analysis) {
  const link = h(
    "a",
    { class: "button secondary", href: "#", download: `cerebro-report-${analysis.id}.html` },
    "Download the HTML report",
  );
  // the report route needs the token, which a plain link cannot send: fetch it on the first
  // click, then let the browser save it from memory
  link.addEventListener("click", async (event) => {
    if (link.dataset.ready) return;
    event.preventDefault();
    try {
      link.href = await blobUrl(`/api/v1/analyses/${analysis.id}/report`);
      link.dataset.ready = "1";
      link.click();
    } catch (error) {
      link.replaceWith(errorNotice(error));
    }
  });
  return link;
}

async function plot(analysis, into) {
  try {
    const url = await blobUrl(`/api/v1/analyses/${analysis.id}/plot`);
    const title = (analysis.result.summary && analysis.result.summary.title) || analysis.kind;
    fill(into, h("img", { src: url, alt: `Plot of the result: ${title}`, class: "plot" }));
  } catch (error) {
    fill(into, h("p", { class: "hint" }, `No plot: ${error.message}`));
  }
}

function statusPanel(analysis, ctx) {
  const cancel = async () => {
    await api(`/api/v1/analyses/${analysis.id}/cancel`, { method: "POST" });
    ctx.announce("Cancellation asked.");
  };
  return h(
    "div",
    { class: "status-panel" },
    h(
      "p",
      {},
      "Status: ",
      badge(analysis.status),
      " ",
      progressBar(analysis),
      analysis.progress_step ? ` – ${analysis.progress_step}` : "",
    ),
    analysis.error
      ? h(
          "div",
          { class: "notice notice-error", role: "alert" },
          analysis.error.message || String(analysis.error),
        )
      : null,
    LIVE.has(analysis.status) && ctx.caps.run
      ? h("button", { type: "button", class: "secondary", onclick: cancel }, "Cancel")
      : null,
  );
}

async function detailPage(root, ctx) {
  const path = `/api/v1/analyses/${encodeURIComponent(ctx.id)}`;
  let analysis = await api(path);
  const panel = h("div");
  const body = h("div");
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Kind"),
    h("dd", {}, analysis.kind),
    h("dt", {}, "Submitted"),
    h("dd", {}, when(analysis.created_at)),
    h("dt", {}, "Dataset"),
    h(
      "dd",
      {},
      analysis.dataset_id
        ? h("a", { href: `#/datasets/${analysis.dataset_id}` }, analysis.dataset_id)
        : "–",
    ),
    h("dt", {}, "Experiment"),
    h(
      "dd",
      {},
      analysis.experiment_id
        ? h("a", { href: `#/experiments/${analysis.experiment_id}` }, analysis.experiment_id)
        : "–",
    ),
  );
  const spec = h(
    "details",
    {},
    h("summary", {}, "Spec"),
    h("pre", {}, JSON.stringify(analysis.spec, null, 2)),
  );
  fill(
    root,
    h("p", { class: "crumbs" }, h("a", { href: "#/analyses" }, "Analyses"), " / ", analysis.id),
    h("h1", {}, `Analysis: ${analysis.kind}`),
    facts,
    panel,
    spec,
    body,
  );
  let stopped = false;
  ctx.onLeave(() => {
    stopped = true;
  });
  const show = () => {
    fill(panel, statusPanel(analysis, ctx));
    if (analysis.status !== "succeeded") return;
    const plotBox = h(
      "figure",
      { class: "plot-box" },
      h("p", { class: "loading" }, "Drawing the plot…"),
    );
    fill(
      body,
      h("div", { class: "actions" }, reportLink(analysis)),
      renderResult(analysis.result, 2, plotBox),
    );
    plot(analysis, plotBox);
  };
  show();
  // followed in the background: the page is usable (and focused) while the job runs
  (async () => {
    while (LIVE.has(analysis.status) && !stopped) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (stopped) return;
      const before = analysis.status;
      try {
        analysis = await api(path);
      } catch (error) {
        fill(panel, errorNotice(error));
        return;
      }
      show();
      if (before !== analysis.status) ctx.announce(`The analysis is ${analysis.status}.`);
    }
  })();
}

export function render(root, ctx) {
  return ctx.id ? detailPage(root, ctx) : listPage(root, ctx);
}
