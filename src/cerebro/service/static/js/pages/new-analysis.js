// Start an analysis: choose a kind, a dataset and (optionally) an experiment, fill the form
// generated from the kind's spec schema, submit; the service answers a refusal with the
// CLI's sentence, shown next to the field it names.
import { api } from "../api.js";
import { errorNotice, field, fill, h, uid } from "../dom.js";
import { fieldOf, schemaForm } from "../schemaform.js";

export async function datasetOptions(select, chosen) {
  const body = await api("/api/v1/datasets", { query: { limit: 500 } });
  fill(
    select,
    h(
      "option",
      { value: "" },
      body.items.length ? "choose a dataset…" : "no dataset: upload one first",
    ),
    body.items.map((d) =>
      h("option", { value: d.id, selected: d.id === chosen }, `${d.name} (${d.rows} rows)`),
    ),
  );
  return body.items;
}

/** A <datalist> of the chosen dataset's columns (suggested in the text fields). */
export function columnsList(datasets, select) {
  const list = h("datalist", { id: uid("columns") });
  const update = () => {
    const dataset = datasets().find((d) => d.id === select.value);
    fill(
      list,
      (dataset ? dataset.columns : []).map((c) => h("option", { value: c })),
    );
  };
  select.addEventListener("change", update);
  return { list, update };
}

export async function render(root, ctx) {
  const { items: kinds } = await api("/api/v1/kinds");
  const kindSelect = h(
    "select",
    { name: "kind", required: true },
    kinds.map((k) =>
      h(
        "option",
        { value: k.kind, selected: k.kind === (ctx.params.get("kind") || "abtest") },
        k.kind,
      ),
    ),
  );
  const kindHint = h("span");
  const datasetSelect = h("select", { name: "dataset_id" });
  let datasets = [];
  if (ctx.caps.dataRead) datasets = await datasetOptions(datasetSelect, ctx.params.get("dataset"));
  const experimentSelect = h(
    "select",
    { name: "experiment_id" },
    h("option", { value: "" }, "none"),
  );
  if (ctx.caps.results) {
    const { items } = await api("/api/v1/experiments", { query: { limit: 200 } });
    for (const e of items) {
      experimentSelect.append(
        h(
          "option",
          { value: e.id, selected: e.id === ctx.params.get("experiment") },
          `${e.name} (${e.status})`,
        ),
      );
    }
  }
  const columns = columnsList(() => datasets, datasetSelect);
  columns.update();
  const datasetField = field("Dataset", datasetSelect, "The data this analysis reads.");
  const specBox = h("fieldset", { class: "spec" });
  const problem = h("div");
  const submitButton = h("button", { type: "submit" }, "Run the analysis");
  let form = null;
  let kind = null;

  const build = () => {
    kind = kinds.find((k) => k.kind === kindSelect.value);
    fill(kindHint, kind.summary);
    form = schemaForm(kind.schema, { columns: columns.list.id });
    datasetField.hidden = !kind.needs_data;
    datasetSelect.required = kind.needs_data;
    fill(
      specBox,
      h("legend", {}, `${kind.kind} options`),
      kind.schema.description
        ? h("p", { class: "hint" }, kind.schema.description.split("\n\n")[0])
        : null,
      form.node,
    );
    fill(problem);
  };
  kindSelect.addEventListener("change", build);

  async function submit(event) {
    event.preventDefault();
    fill(problem);
    let spec;
    try {
      spec = { kind: kind.kind, ...form.collect() };
    } catch (bad) {
      fill(problem, errorNotice(bad));
      form.mark(bad.field);
      return;
    }
    const body = {
      spec,
      dataset_id: kind.needs_data ? datasetSelect.value || null : null,
      experiment_id: experimentSelect.value || null,
    };
    submitButton.disabled = true;
    try {
      const job = await api("/api/v1/analyses", { method: "POST", body });
      ctx.announce(`Analysis ${job.kind} submitted.`);
      ctx.go(`#/analyses/${job.id}`);
    } catch (error) {
      submitButton.disabled = false;
      fill(problem, errorNotice(error));
      const name = fieldOf(error);
      if (!form.mark(name) && name === "dataset_id") datasetSelect.focus();
    }
  }

  fill(
    root,
    h("h1", {}, "New analysis"),
    h(
      "form",
      { class: "card", onsubmit: submit, novalidate: true },
      h(
        "div",
        { class: "grid" },
        field("Analysis kind", kindSelect, kindHint),
        datasetField,
        field(
          "Experiment (optional)",
          experimentSelect,
          "Link the result to a registered experiment.",
        ),
      ),
      columns.list,
      specBox,
      problem,
      submitButton,
    ),
  );
  build();
}
