// A versioned result (Result.to_dict(), as `cerebro run --json` prints it) shown as a person
// reads it: title, narrative, findings, estimates and tables. Numbers are shown, never
// computed: every value, interval and p-value is the result's own.
import { badge, h, num, table } from "./dom.js";

const interval = (e) =>
  e.ci_low === null || e.ci_low === undefined ? "–" : `${num(e.ci_low)} to ${num(e.ci_high)}`;

function findings(result) {
  if (!result.findings || !result.findings.length) return null;
  return h(
    "section",
    { class: "findings", "aria-label": "Findings" },
    h("h3", {}, "Findings"),
    h(
      "ul",
      {},
      result.findings.map((f) =>
        h("li", { class: `finding finding-${f.level}` }, badge(f.level), " ", f.message),
      ),
    ),
  );
}

function dataTable(name, data) {
  const columns = data.columns.map((column, i) => [column, (row) => num(row[i])]);
  return table(name, columns, data.rows, `The table ${name} is empty.`);
}

function tables(result) {
  const all = Object.entries(result.tables || {});
  if (!all.length) return null;
  const headline = result.summary && result.summary.headline_table;
  const first = all.filter(([name]) => name === headline);
  const rest = all.filter(([name]) => name !== headline);
  return h(
    "section",
    { class: "tables", "aria-label": "Tables" },
    first.map(([name, data]) => [h("h3", {}, `Table: ${name}`), dataTable(name, data)]),
    rest.length
      ? h(
          "details",
          {},
          h("summary", {}, `Other tables (${rest.map(([name]) => name).join(", ")})`),
          rest.map(([name, data]) => [h("h4", {}, name), dataTable(name, data)]),
        )
      : null,
  );
}

const given = (value) => value !== null && value !== undefined;

/** The estimates, with the interval and p-value columns only when some estimate has them
 * (a sample size has neither). */
function estimates(rows, level) {
  const columns = [
    ["Estimate", (e) => e.label],
    ["Value", (e) => num(e.value)],
  ];
  if (rows.some((e) => given(e.ci_low))) columns.push([level, interval]);
  if (rows.some((e) => given(e.p_value))) columns.push(["p-value", (e) => num(e.p_value, 3)]);
  return table("Estimates", columns, rows, "This result has no estimates.");
}

/** The result's parts as nodes; `heading` is the level of its title (2 or 3); `figure` (the
 * plot, fetched by the caller) goes after the estimates. */
export function renderResult(result, heading = 2, figure = null) {
  const summary = result.summary || {};
  const alpha = summary.alpha;
  const level = alpha ? `${Math.round((1 - alpha) * 1000) / 10}% interval` : "interval";
  const narrative = (summary.narrative || "").split("\n").filter(Boolean);
  return h(
    "div",
    { class: "result" },
    h(`h${heading}`, {}, summary.title || `${result.kind} result`),
    h(
      "p",
      { class: "meta" },
      `${result.kind} · ${result.method || ""} · Cerebro ${result.cerebro_version}`,
    ),
    narrative.length
      ? h(
          "div",
          { class: "narrative" },
          narrative.map((line) => h("p", {}, line)),
        )
      : null,
    estimates(result.estimates || [], level),
    figure,
    findings(result),
    tables(result),
  );
}

/** A result's first estimate with an interval: its headline. */
export function headlineEstimate(result) {
  return (result.estimates || []).find((e) => e.ci_low !== null && e.ci_low !== undefined) || null;
}

/** What the latest result says about the decision, read from its headline estimate: the
 * interval above zero, below zero, or across it – unless a finding is an error (the data
 * are suspect, e.g. a sample ratio mismatch), which comes first. */
export function decision(result) {
  if (!result) return null;
  if ((result.findings || []).some((f) => f.level === "error")) {
    return { text: "check the data first", kind: "error" };
  }
  const first = headlineEstimate(result);
  if (!first) return null;
  if (first.ci_low > 0) return { text: "positive", kind: "positive", estimate: first };
  if (first.ci_high < 0) return { text: "negative", kind: "negative", estimate: first };
  return { text: "inconclusive", kind: "inconclusive", estimate: first };
}
