// Datasets: upload (CSV, TSV, Parquet, JSON), the list, and one dataset's profile – column
// types, missingness, duplicates, time order and the data-quality findings.
import { api } from "../api.js";
import { badge, bytes, errorNotice, field, fill, h, num, table, when } from "../dom.js";

function uploadForm(ctx) {
  const file = h("input", {
    type: "file",
    name: "file",
    required: true,
    accept: ".csv,.tsv,.parquet,.json",
  });
  const name = h("input", { type: "text", name: "name", maxlength: 300 });
  const problem = h("div");
  const button = h("button", { type: "submit" }, "Upload");
  async function submit(event) {
    event.preventDefault();
    if (!file.files.length) return;
    const form = new FormData();
    form.append("file", file.files[0]);
    if (name.value.trim()) form.append("name", name.value.trim());
    button.disabled = true;
    fill(problem, h("p", { class: "loading" }, "Uploading and profiling…"));
    try {
      const made = await api("/api/v1/datasets", { method: "POST", form });
      ctx.announce(`Dataset ${made.name} uploaded: ${made.rows} rows.`);
      ctx.go(`#/datasets/${made.id}`);
    } catch (error) {
      fill(problem, errorNotice(error));
      button.disabled = false;
    }
  }
  return h(
    "form",
    { class: "card", onsubmit: submit },
    h("h2", {}, "Upload a dataset"),
    problem,
    h(
      "div",
      { class: "grid" },
      field("Data file", file, "CSV, TSV, Parquet or JSON; it is profiled on upload."),
      field("Name (optional)", name, "Default: the file's name."),
    ),
    button,
  );
}

async function listPage(root, ctx) {
  const body = await api("/api/v1/datasets", { query: { limit: 100 } });
  fill(
    root,
    h("h1", {}, "Datasets"),
    ctx.caps.dataWrite ? uploadForm(ctx) : null,
    h("p", { class: "count" }, `${body.total} dataset${body.total === 1 ? "" : "s"}`),
    table(
      "The organisation's datasets, newest first",
      [
        ["Name", (d) => h("a", { href: `#/datasets/${d.id}` }, d.name)],
        ["File", (d) => d.filename],
        ["Rows", (d) => num(d.rows)],
        ["Columns", (d) => d.columns.length],
        ["Size", (d) => bytes(d.size_bytes)],
        ["Uploaded", (d) => when(d.created_at)],
      ],
      body.items,
      "No datasets yet.",
    ),
  );
}

async function detailPage(root, ctx) {
  const dataset = await api(`/api/v1/datasets/${encodeURIComponent(ctx.id)}`);
  const profile = dataset.profile || { columns: [], findings: [], time_order: [] };
  const problem = h("div");
  const remove = async () => {
    if (!window.confirm(`Delete the dataset ${dataset.name} and its file?`)) return;
    try {
      await api(`/api/v1/datasets/${dataset.id}`, { method: "DELETE" });
      ctx.announce(`Dataset ${dataset.name} deleted.`);
      ctx.go("#/datasets");
    } catch (error) {
      fill(problem, errorNotice(error));
    }
  };
  fill(
    root,
    h("p", { class: "crumbs" }, h("a", { href: "#/datasets" }, "Datasets"), " / ", dataset.name),
    h("h1", {}, dataset.name),
    problem,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "File"),
      h("dd", {}, dataset.filename),
      h("dt", {}, "Rows"),
      h("dd", {}, num(dataset.rows)),
      h("dt", {}, "Size"),
      h("dd", {}, bytes(dataset.size_bytes)),
      h("dt", {}, "Duplicate rows"),
      h("dd", {}, num(profile.duplicate_rows)),
      h("dt", {}, "Uploaded"),
      h("dd", {}, when(dataset.created_at)),
      h("dt", {}, "Id"),
      h("dd", { class: "id" }, dataset.id),
    ),
    h(
      "div",
      { class: "actions" },
      ctx.caps.run
        ? h("a", { class: "button", href: `#/new?dataset=${dataset.id}` }, "Analyse this dataset")
        : null,
      ctx.caps.dataWrite
        ? h("button", { type: "button", class: "danger", onclick: remove }, "Delete")
        : null,
    ),
    h("h2", {}, "Data quality"),
    profile.findings.length
      ? h(
          "ul",
          { class: "findings" },
          profile.findings.map((f) => h("li", {}, badge(f.level), " ", f.message)),
        )
      : h("p", {}, "No data-quality findings."),
    h("h2", {}, "Columns"),
    table(
      "Column profile",
      [
        ["Column", (c) => h("code", {}, c.name)],
        ["Type", (c) => c.type],
        ["Missing", (c) => num(c.missing)],
        ["Missing share", (c) => `${(100 * c.missing_share).toFixed(1)}%`],
        ["Distinct values", (c) => num(c.distinct)],
      ],
      profile.columns,
    ),
    profile.time_order.length
      ? [
          h("h2", {}, "Time order"),
          table(
            "Date columns",
            [
              ["Column", (t) => h("code", {}, t.column)],
              ["First", (t) => t.first || "–"],
              ["Last", (t) => t.last || "–"],
              ["Sorted", (t) => (t.sorted ? "yes" : "no")],
              ["Repeated values", (t) => num(t.repeated_values)],
            ],
            profile.time_order,
          ),
        ]
      : null,
  );
}

export function render(root, ctx) {
  return ctx.id ? detailPage(root, ctx) : listPage(root, ctx);
}
