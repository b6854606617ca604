// Building the page from data without innerHTML: every text the service returns is set as
// text, so a dataset or experiment name can never inject markup.

/** `h("a", {href: "#/x", class: "y", onclick: f}, "text", child)`: an element. Attributes
 * whose value is null, undefined or false are left out; `true` sets an empty attribute. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace a node's content. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

let counter = 0;
/** A fresh id for pairing a label with its input. */
export const uid = (prefix = "f") => `${prefix}-${++counter}`;

/** A labelled control: `<div class="field"><label for>…</label>control<p hint></div>`. */
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  const hintNode = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintNode) control.setAttribute("aria-describedby", hintNode.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintNode);
}

/** A data table with a caption; `columns` are [heading, row → cell content, class?]. */
export function table(caption, columns, rows, empty = "Nothing yet.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          columns.map(([heading]) => h("th", { scope: "col" }, heading)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            {},
            columns.map(([, cell, cls]) => h("td", { class: cls }, cell(row))),
          ),
        ),
      ),
    ),
  );
}

/** A message in the page's alert style: level error, warning, info or success. */
export function notice(level, ...children) {
  const role = level === "error" ? "alert" : "status";
  return h("div", { class: `notice notice-${level}`, role }, children);
}

export function errorNotice(error) {
  // the field named, unless it is the whole spec (the sentence names the field itself)
  const named = error.field && error.field !== "spec";
  const field = named ? h("span", { class: "field-name" }, ` (${error.field})`) : null;
  return notice("error", error.message, field);
}

/** A status word as a badge (its colour comes from the stylesheet, its meaning from the text). */
export const badge = (text, kind = text) => h("span", { class: `badge badge-${kind}` }, text);

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
export function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso.endsWith("Z") || iso.includes("+") ? iso : `${iso}Z`);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

/** A number as a person reads it: 4 significant digits, thousands grouped. */
export function num(value, digits = 4) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return value.toLocaleString();
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return value.toExponential(digits - 1);
  return value.toLocaleString(undefined, { maximumSignificantDigits: digits });
}

export function bytes(size) {
  if (size === null || size === undefined) return "–";
  const units = ["B", "KB", "MB", "GB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

/** Move focus to a page's heading after navigation, so keyboard and screen-reader users
 * start at the new content. */
export function focusHeading(root) {
  const heading = root.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}
