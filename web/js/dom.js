/*
 * dom.js — building elements safely.
 *
 * Every string that reaches the page goes in as text (textContent or a text
 * node), never as HTML: titles, units and TEXT values come from plugins.
 */

/*
 * el("div", {class: "card", "aria-label": t}, child, "text", …): attributes are
 * set with setAttribute (values as strings), children are nodes or strings.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}

/* Sets a node's text only when it changed (cheap at 1 Hz × many cards). */
export function setText(node, text) {
  const s = text == null ? "" : String(text);
  if (node.textContent !== s) node.textContent = s;
}

/* Sets (or removes, for null/"") an attribute only when it changed. */
export function setAttr(node, name, value) {
  if (value === null || value === undefined || value === "") {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}
