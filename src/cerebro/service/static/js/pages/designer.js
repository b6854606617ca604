// The experiment designer: sample size and duration (power), randomisation (design) and geo
// market selection (geo_design) in one request to POST /api/v1/design/experiment. Each part's
// form comes from its kind's spec schema; only the parts ticked are sent.
import { api } from "../api.js";
import { errorNotice, field, fill, h } from "../dom.js";
import { renderResult } from "../results.js";
import { fieldOf, schemaForm } from "../schemaform.js";
import { columnsList, datasetOptions } from "./new-analysis.js";

const PARTS = [
  { key: "power", kind: "power", title: "Sample size and duration", data: false, open: true },
  { key: "randomization", kind: "design", title: "Randomisation", data: true, open: false },
  { key: "geo", kind: "geo_design", title: "Geo market selection", data: true, open: false },
];

function part(spec, kinds, caps) {
  const kind = kinds.find((k) => k.kind === spec.kind);
  const include = h("input", { type: "checkbox", checked: spec.open, id: `include-${spec.key}` });
  const dataset = h("select", { name: `${spec.key}-dataset` });
  let datasets = [];
  const columns = columnsList(() => datasets, dataset);
  const form = schemaForm(kind.schema, { columns: columns.list.id });
  const body = h(
    "div",
    { class: "part-body", hidden: !spec.open },
    spec.data ? field("Dataset", dataset, "The units (or geos) to design for.") : null,
    columns.list,
    form.node,
  );
  include.addEventListener("change", () => {
    body.hidden = !include.checked;
  });
  const node = h(
    "fieldset",
    { class: "spec card" },
    h("legend", {}, spec.title, " ", h("code", {}, `kind: ${spec.kind}`)),
    h(
      "div",
      { class: "field field-check" },
      include,
      h("label", { for: include.id }, `Include ${spec.title.toLowerCase()}`),
    ),
    body,
  );
  return {
    spec,
    node,
    form,
    include,
    async load() {
      if (spec.data && caps.dataRead) {
        datasets = await datasetOptions(dataset);
        columns.update();
      }
    },
    request() {
      const values = form.collect();
      return spec.data ? { dataset_id: dataset.value || null, ...values } : values;
    },
  };
}

export async function render(root, ctx) {
  const { items: kinds } = await api("/api/v1/kinds");
  const parts = PARTS.map((spec) => part(spec, kinds, ctx.caps));
  await Promise.all(parts.map((p) => p.load()));
  const problem = h("div");
  const output = h("div", { class: "designer-output" });
  const button = h("button", { type: "submit" }, "Design");

  async function submit(event) {
    event.preventDefault();
    fill(problem);
    const request = {};
    const chosen = parts.filter((p) => p.include.checked);
    if (!chosen.length) {
      fill(problem, errorNotice({ message: "tick at least one part to design." }));
      return;
    }
    for (const p of chosen) {
      try {
        request[p.spec.key] = p.request();
      } catch (bad) {
        fill(problem, errorNotice(bad));
        p.form.mark(bad.field);
        return;
      }
    }
    button.disabled = true;
    fill(output, h("p", { class: "loading" }, "Designing…"));
    try {
      const answer = await api("/api/v1/design/experiment", { method: "POST", body: request });
      fill(
        output,
        h("h2", {}, "Design"),
        parts
          .filter((p) => answer[p.spec.key])
          .map((p) => h("section", { class: "card" }, renderResult(answer[p.spec.key], 3))),
      );
      ctx.announce("Design ready.");
      output.querySelector("h2").setAttribute("tabindex", "-1");
      output.querySelector("h2").focus();
    } catch (error) {
      fill(output);
      fill(problem, errorNotice(error));
      const [key, ...rest] = (error.field || "").split(".");
      const target = parts.find((p) => p.spec.key === key);
      if (target) target.form.mark(rest.length ? rest.join(".") : fieldOf(error));
    } finally {
      button.disabled = false;
    }
  }

  fill(
    root,
    h("h1", {}, "Experiment designer"),
    h(
      "p",
      {},
      "Plan a test in one go: how many users and days it needs, how to randomise them, and which markets to treat.",
    ),
    h(
      "form",
      { onsubmit: submit, novalidate: true },
      parts.map((p) => p.node),
      problem,
      button,
    ),
    output,
  );
}
