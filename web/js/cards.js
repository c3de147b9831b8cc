/*
 * cards.js — the headline numbers at the top of the page.
 *
 * One card per descriptor with `card: true`, in priority order. A card shows
 * the latest value with its unit, coloured by the warn/crit thresholds and
 * labelled in words too (colour is never the only signal). Counters show
 * their total (and the current rate below it), histograms their p95, text
 * metrics their string in monospace.
 */

import { el, setText, setAttr } from "./dom.js";
import { formatParts, formatRate, formatValue, isNumber, levelFor, DASH } from "./format.js";
import { byPriority, titleOf, precisionOf, KIND, HIST } from "./descriptors.js";
import { counterRates } from "./store.js";

const LEVEL_TEXT = { ok: "ok", warn: "warning", crit: "critical" };
const LEVEL_ICON = { ok: "\u25cf", warn: "\u25b2", crit: "\u25c6" };
const LEVEL_ARIA = { ok: "status: normal", warn: "status: warning", crit: "status: critical" };

function thresholdsText(d) {
  const p = precisionOf(d, undefined);
  const parts = [];
  if (isNumber(d.warn)) parts.push(`warn ${d.lower_is_worse ? "\u2264" : "\u2265"} ${formatValue(d.warn, d.unit, p)}`);
  if (isNumber(d.crit)) parts.push(`crit ${d.lower_is_worse ? "\u2264" : "\u2265"} ${formatValue(d.crit, d.unit, p)}`);
  return parts.join(", ");
}

/* Builds the DOM of one card; returns the element and the parts we update. */
function makeCard(d) {
  const kind = d.kind;
  const title = el("h3", { class: "card-title" }, titleOf(d));
  const badgeIcon = el("span", { class: "badge-icon", "aria-hidden": "true" });
  const badgeText = el("span", { class: "badge-text" });
  /* The level in words and a shape, not only a colour; read as one image. */
  const badge = el("span", { class: "badge", role: "img", hidden: true }, badgeIcon, badgeText);
  const num = el("span", { class: "card-num" }, DASH);
  const unit = el("span", { class: "card-unit" });
  const stat = kind === KIND.HISTOGRAM ? el("span", { class: "card-stat", title: "95th percentile over the last 60 s" }, "p95") : null;
  const value = el("p", { class: "card-value" }, stat, num, unit);
  const sub = el("p", { class: "card-sub" });
  const desc = typeof d.description === "string" ? d.description : "";
  const thr = thresholdsText(d);
  const tip = [desc, thr && `Thresholds: ${thr}`].filter(Boolean).join("\n");
  /* A figure named by its title, value and level (kept current in update()). */
  const root = el("article", {
    class: `card kind-${kind === KIND.TEXT ? "text" : "number"}`,
    role: "figure",
    "aria-label": `${titleOf(d)}: no value yet`,
    title: tip || null,
  }, el("header", { class: "card-head" }, title, badge), value, sub);
  /* What the DOM shows now, so an update compares strings and never reads the DOM. */
  const shown = { num: DASH, unit: "", sub: "", label: root.getAttribute("aria-label"), level: null };
  return { root, badge, badgeIcon, badgeText, num, unit, sub, desc, title: titleOf(d), stat: stat ? "p95 " : "", shown };
}

/* The text one card should show for the latest values in `store`. */
function cardText(d, parts, store) {
  const v = store.latest(d.id);
  const p = precisionOf(d, undefined);
  if (d.kind === KIND.TEXT) {
    const text = typeof v === "string" && v !== "" ? v : DASH;
    return { num: text, unit: "", sub: parts.desc, level: "" };
  }
  let value = null;
  let sub = parts.desc;
  if (d.kind === KIND.HISTOGRAM) {
    const h = Array.isArray(v) ? v : [];
    value = isNumber(h[HIST.P95]) ? h[HIST.P95] : null;
    const n = isNumber(h[HIST.COUNT]) ? h[HIST.COUNT] : 0;
    sub = n > 0
      ? `p50 ${formatValue(h[HIST.P50], d.unit, p)} \u00b7 p99 ${formatValue(h[HIST.P99], d.unit, p)} \u00b7 ${formatValue(n, "count", 0)} in 60 s`
      : "no observations in the last 60 s";
  } else {
    value = isNumber(v) ? v : null;
    if (d.kind === KIND.COUNTER) {
      const n = store.length;
      const col = store.column(d.id);
      const rate = n > 1 && col ? counterRates(store.ts, col, n - 1, n)[0] : null;
      sub = `total \u00b7 ${formatRate(rate, d.unit === "count" ? "" : d.unit, p)} now`;
    }
  }
  const [num, unit] = formatParts(value, d.unit, p);
  return { num, unit: num === DASH ? "" : unit, sub, level: levelFor(d, value) };
}

export class Cards {
  constructor(container) {
    this.container = container;
    this.cards = new Map();        /* id → {desc, parts} */
  }

  get count() {
    return this.cards.size;
  }

  /* Rebuilds the set of cards for `descs`, reusing the cards of ids that persist. */
  build(descs) {
    const wanted = byPriority(descs.filter((d) => d.card === true));
    const next = new Map();
    for (const d of wanted) {
      const old = this.cards.get(d.id);
      const sameShape = old && old.desc.kind === d.kind && old.desc.title === d.title &&
        old.desc.description === d.description && thresholdsText(old.desc) === thresholdsText(d);
      next.set(d.id, { desc: d, parts: sameShape ? old.parts : makeCard(d) });
    }
    this.cards = next;
    this.container.replaceChildren(...[...next.values()].map((c) => c.parts.root));
    this.container.hidden = next.size === 0;
  }

  /*
   * Shows the latest values held by `store`: first works out every card's
   * text, then writes only what changed, so one sample costs a handful of
   * text writes and no layout reads.
   */
  update(store) {
    const writes = [];
    for (const { desc, parts } of this.cards.values()) {
      const next = cardText(desc, parts, store);
      const s = parts.shown;
      const level = next.level;
      const label = `${parts.title}: ${parts.stat}${next.num}${next.unit ? ` ${next.unit}` : ""}` +
        (level ? `, ${LEVEL_ARIA[level]}` : "");
      if (next.num !== s.num || next.unit !== s.unit || next.sub !== s.sub || label !== s.label || level !== s.level) {
        writes.push([parts, next, label]);
      }
    }
    for (const [parts, next, label] of writes) this.#write(parts, next, label);
  }

  #write(parts, next, label) {
    const s = parts.shown;
    if (next.num !== s.num) parts.num.textContent = s.num = next.num;
    if (next.unit !== s.unit) parts.unit.textContent = s.unit = next.unit;
    if (next.sub !== s.sub) parts.sub.textContent = s.sub = next.sub;
    if (label !== s.label) parts.root.setAttribute("aria-label", (s.label = label));
    const level = next.level;
    if (level !== s.level) {
      s.level = level;
      setAttr(parts.root, "data-level", level);
      parts.badge.hidden = !level;
      setAttr(parts.badge, "aria-label", LEVEL_ARIA[level]);
      setText(parts.badgeIcon, LEVEL_ICON[level] || "");
      setText(parts.badgeText, LEVEL_TEXT[level] || "");
    }
  }

  /* What each card shows, for tests and debugging. */
  describe() {
    return [...this.cards.values()].map(({ parts }) => ({ title: parts.title, ...parts.shown }));
  }
}
