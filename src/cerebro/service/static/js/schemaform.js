// A form generated from a spec's JSON schema (GET /api/v1/kinds): one labelled control per
// field, its help and default from the schema – nothing about any kind is written here.
// Only what the user fills in is sent; the service validates it with the CLI's sentences.
import { field, h, uid } from "./dom.js";

const SHOWN = 8; // optional fields shown before "More options" (a spec lists its main ones first)

/** How a property is edited: {input, choices, step, item}. */
export function describe(prop) {
  const alternatives = prop.anyOf || [prop];
  const types = alternatives.filter((a) => a.type !== "null");
  if (types.length !== 1) {
    const scalar = types.every((a) => ["number", "integer", "string"].includes(a.type));
    return { input: scalar ? "scalar" : "json" };
  }
  const one = types[0];
  if (one.enum) return { input: "choice", choices: one.enum };
  if (one.type === "boolean") return { input: "boolean" };
  if (one.type === "integer") return { input: "number", step: "1" };
  if (one.type === "number") return { input: "number", step: "any" };
  if (one.type === "string") return { input: "text" };
  if (one.type === "array" && one.items) {
    const item = one.items;
    if (item.enum || ["string", "number", "integer"].includes(item.type)) {
      return { input: "list", item: item.enum ? "string" : item.type };
    }
  }
  return { input: "json" };
}

const shown = (value) => (typeof value === "string" ? value : JSON.stringify(value));

function hint(prop, kind) {
  const parts = [prop.description || ""];
  if (kind.input === "list" && !/comma/i.test(prop.description || ""))
    parts.push("Comma-separated.");
  if (kind.input === "json") parts.push("JSON.");
  if (prop.default !== undefined && prop.default !== null && kind.input !== "boolean") {
    const empty = Array.isArray(prop.default) && !prop.default.length;
    if (!empty) parts.push(`Default: ${shown(prop.default)}.`);
  }
  return parts.filter(Boolean).join(" ");
}

function control(name, prop, kind, required, columns) {
  const id = uid(`spec-${name}`);
  const common = { id, name, dataset: { field: name, input: kind.input } };
  if (kind.input === "choice") {
    const def = prop.default;
    const first = required
      ? "choose…"
      : def === null || def === undefined
        ? "default"
        : `default (${def})`;
    return h(
      "select",
      { ...common, required },
      h("option", { value: "" }, first),
      kind.choices.map((choice) => h("option", { value: choice }, choice)),
    );
  }
  if (kind.input === "boolean") {
    return h("input", { ...common, type: "checkbox", checked: prop.default === true });
  }
  if (kind.input === "json") {
    return h("textarea", { ...common, rows: 2, spellcheck: "false", required });
  }
  const attrs = { ...common, required, autocomplete: "off", spellcheck: "false" };
  if (kind.input === "number") return h("input", { ...attrs, type: "number", step: kind.step });
  return h("input", { ...attrs, type: "text", list: kind.input === "text" ? columns : null });
}

/** Build the fields of `schema` into a fragment; returns {node, collect, mark}. `columns` is
 * the id of a <datalist> of the dataset's columns, offered on text fields. */
export function schemaForm(schema, { columns = null, skip = [] } = {}) {
  const properties = Object.entries(schema.properties || {}).filter(
    ([name, prop]) => name !== "kind" && !skip.includes(name) && prop.const === undefined,
  );
  const required = new Set(schema.required || []);
  const controls = new Map();
  const build = ([name, prop]) => {
    const kind = describe(prop);
    const input = control(name, prop, kind, required.has(name), columns);
    controls.set(name, { input, prop, kind });
    const label = required.has(name) ? `${name} (required)` : name;
    const row = field(label, input, hint(prop, kind));
    if (kind.input === "boolean") row.classList.add("field-check");
    return row;
  };
  const main = properties.filter(([name]) => required.has(name));
  const rest = properties.filter(([name]) => !required.has(name));
  const first = [...main, ...rest.slice(0, SHOWN)];
  const more = rest.slice(SHOWN);
  const node = h(
    "div",
    { class: "schema-form" },
    h("div", { class: "grid" }, first.map(build)),
    more.length
      ? h(
          "details",
          { class: "more" },
          h("summary", {}, `More options (${more.length})`),
          h("div", { class: "grid" }, more.map(build)),
        )
      : null,
  );

  /** The values filled in, typed as the schema says; throws {field, message} on bad input. */
  function collect() {
    const values = {};
    for (const [name, { input, prop, kind }] of controls) {
      const raw = kind.input === "boolean" ? input.checked : input.value.trim();
      if (kind.input === "boolean") {
        if (raw !== (prop.default === true)) values[name] = raw;
        continue;
      }
      if (raw === "") continue;
      if (kind.input === "number") values[name] = Number(raw);
      else if (kind.input === "list") {
        const items = raw
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        values[name] = kind.item === "string" ? items : items.map(Number);
      } else if (kind.input === "scalar") {
        values[name] = raw !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
      } else if (kind.input === "json") {
        try {
          values[name] = JSON.parse(raw);
        } catch {
          throw { field: name, message: `${name}: this is not valid JSON.` };
        }
      } else values[name] = raw;
    }
    return values;
  }

  /** Flag the field a refusal names (and open "More options" if it is there); focus it. */
  function mark(name) {
    for (const { input } of controls.values()) input.removeAttribute("aria-invalid");
    const found = controls.get(name);
    if (!found) return false;
    found.input.setAttribute("aria-invalid", "true");
    const details = found.input.closest("details");
    if (details) details.open = true;
    found.input.focus();
    return true;
  }

  return { node, collect, mark };
}

/** The spec field a refusal's sentence is about: "spec.x", or "invalid k spec – x: …". */
export function fieldOf(error) {
  if (error.field && error.field.startsWith("spec.")) return error.field.slice(5);
  const match = /spec – ([a-z_][a-z0-9_]*)/.exec(error.message || "");
  return match ? match[1] : error.field;
}
