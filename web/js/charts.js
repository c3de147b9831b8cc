/*
 * charts.js — one uPlot chart per distinct descriptor `chart`.
 *
 * The plan (which charts, which series, which axes) comes from descriptors
 * alone: members of a chart share it in priority order, the chart's title is
 * its `chart_title`, charts are ordered by their lowest member priority.
 * Gauges plot their value, counters their rate per second, histograms three
 * series (p50, p95, p99); text metrics are never charted.
 *
 * Every chart shows the same time window (the last minute, five minutes, or
 * all the history the page holds) ending at the newest sample; paused, the
 * window stays where it was while the store keeps filling, and resuming
 * catches up at once. chart.js draws one chart.
 */

import { Chart, readColours, markPainted } from "./chart.js";
import { formatClock, isNumber } from "./format.js";
import { byPriority, priorityOf, titleOf, precisionOf, KIND, HIST } from "./descriptors.js";

/* The windows offered, in seconds (null: everything held). */
export const WINDOWS = Object.freeze({ "60": 60, "300": 300, all: null });
export const DEFAULT_WINDOW = "60";

let allChartsMarked = false;
let inViewMarked = false;

/* Charts far from the viewport redraw at most this often. */
const OFFSCREEN_EVERY_MS = 2000;

const WINDOW_TEXT = { "60": "the last minute", "300": "the last 5 minutes", all: "all the history held" };

const PERCENTILES = [
  { label: "p50", at: HIST.P50, dash: null },
  { label: "p95", at: HIST.P95, dash: [6, 4] },
  { label: "p99", at: HIST.P99, dash: [2, 3] },
];

/* ---- planning: descriptors → chart specs (pure) ---- */

/* The series of one member; `nextColour()` hands out palette positions in order. */
function seriesFor(d, nextColour) {
  const side = d.axis === "right" ? "right" : "left";
  const base = { id: d.id, kind: d.kind, side, style: d.style || "line", precision: precisionOf(d, undefined) };
  if (d.kind === KIND.COUNTER) {
    return [{ ...base, colour: nextColour(), label: titleOf(d), unit: d.unit === "count" ? "" : d.unit || "", rate: true, min: 0, max: null }];
  }
  const hint = { min: isNumber(d.min) ? d.min : null, max: isNumber(d.max) ? d.max : null };
  if (d.kind === KIND.HISTOGRAM) {
    return PERCENTILES.map((pc) => ({
      ...base, ...hint, label: `${titleOf(d)} ${pc.label}`, unit: d.unit || "", rate: false,
      at: pc.at, dash: pc.dash, colour: nextColour(), style: d.style === "bar" ? "line" : d.style || "line",
    }));
  }
  return [{ ...base, ...hint, colour: nextColour(), label: titleOf(d), unit: d.unit || "", rate: false }];
}

function axisSpec(series) {
  if (series.length === 0) return null;
  const units = new Set(series.map((s) => `${s.unit}|${s.rate}`));
  const single = units.size === 1;
  const mins = series.map((s) => s.min).filter(isNumber);
  const maxs = series.map((s) => s.max).filter(isNumber);
  return {
    unit: single ? series[0].unit : "",
    rate: single ? series[0].rate : false,
    min: mins.length ? Math.min(...mins) : null,
    max: maxs.length ? Math.max(...maxs) : null,
  };
}

/* The charts `descs` describe, in display order. */
export function planCharts(descs) {
  const groups = new Map();
  for (const d of byPriority(descs)) {
    if (typeof d.chart !== "string" || d.chart === "" || d.kind === KIND.TEXT) continue;
    if (![KIND.GAUGE, KIND.COUNTER, KIND.HISTOGRAM].includes(d.kind)) continue;
    let g = groups.get(d.chart);
    if (!g) groups.set(d.chart, (g = { key: d.chart, title: "", priority: priorityOf(d), members: [] }));
    if (!g.title && typeof d.chart_title === "string") g.title = d.chart_title;
    g.members.push(d);
  }
  return [...groups.values()].map((g) => {
    let next = 0;
    const series = g.members.flatMap((d) => seriesFor(d, () => next++));
    const left = series.filter((s) => s.side === "left");
    const right = series.filter((s) => s.side === "right");
    return {
      key: g.key,
      title: g.title || titleOf(g.members[0]),
      priority: g.priority,
      series,
      axes: { left: axisSpec(left), right: axisSpec(right) },
    };
  });
}

/* ---- the set of charts ---- */

export class Charts {
  constructor(container) {
    this.container = container;
    this.charts = new Map();      /* chart key → Chart */
    this.hidden = new Set();      /* series the viewer hid (chart key + series), kept across rebuilds */
    this.window = DEFAULT_WINDOW;
    this.paused = false;
    this.t0 = 0;
    this.t1 = 60;
    this.fresh = new Set();       /* charts built since the last update (filled even while paused) */
    this.colours = null;
    this.buildWidth = null;
    this.resizer = new ResizeObserver((entries) => this.#onResize(entries));
    /* Charts near the viewport redraw on every sample, the others at most every OFFSCREEN_EVERY_MS. */
    this.visible = new Set();
    this.last = null;             /* {store, interval} of the latest update, for charts scrolled into view */
    this.seen = new IntersectionObserver((entries) => this.#onVisible(entries), { rootMargin: "200px 0px" });
  }

  get count() {
    return this.charts.size;
  }

  #plotHeight() {
    return window.matchMedia("(max-width: 600px)").matches ? 190 : 230;
  }

  #onResize(entries) {
    const h = this.#plotHeight();
    for (const e of entries) {
      for (const c of this.charts.values()) {
        if (c.plotEl === e.target) c.resize(e.contentRect.width, h);
      }
    }
  }

  #onVisible(entries) {
    const shown = [];
    for (const e of entries) {
      const c = [...this.charts.values()].find((x) => x.root === e.target);
      if (!c) continue;
      if (e.isIntersecting) {
        this.visible.add(c);
        if (c.stale) shown.push(c);
      } else {
        this.visible.delete(c);
      }
    }
    if (shown.length && this.last) this.#fill(shown, this.last.store, this.last.interval, false);
  }

  #seriesKey(spec, s) {
    return `${spec.key}\u0000${s.id}\u0000${s.at ?? ""}`;
  }

  /*
   * The plot width for new charts: every panel sits in the same grid
   * column width, so one layout read serves a whole build (the
   * ResizeObserver corrects any chart that differs).
   */
  #plotWidth(plotEl) {
    if (this.buildWidth === null) this.buildWidth = plotEl.clientWidth;
    return this.buildWidth;
  }

  #context() {
    return {
      range: () => [this.t0, this.t1],
      colours: this.colours,
      height: this.#plotHeight(),
      width: (plotEl) => this.#plotWidth(plotEl),
      isHidden: (spec, s) => this.hidden.has(this.#seriesKey(spec, s)),
      onToggle: (spec, s, show) => {
        const key = this.#seriesKey(spec, s);
        if (show) this.hidden.delete(key);
        else this.hidden.add(key);
      },
    };
  }

  /* Rebuilds the charts for `descs`, keeping the charts whose shape is unchanged. */
  build(descs) {
    if (typeof globalThis.uPlot !== "function") throw new Error("the charting library (uPlot) did not load");
    if (!this.colours) this.colours = readColours();
    const plan = planCharts(descs);
    /* Shown before the charts are made, so they are made at their real width. */
    this.container.hidden = plan.length === 0;
    this.buildWidth = null;
    const next = new Map();
    for (const spec of plan) {
      const old = this.charts.get(spec.key);
      if (old && old.signature === JSON.stringify(spec)) {
        next.set(spec.key, old);
        this.charts.delete(spec.key);
      }
    }
    for (const old of this.charts.values()) {
      this.resizer.unobserve(old.plotEl);
      this.seen.unobserve(old.root);
      this.visible.delete(old);
      this.fresh.delete(old);
      old.destroy();
    }
    for (const spec of plan) {
      if (!next.has(spec.key)) {
        /* Every new chart starts as a shell; the first setData makes its plot,
         * so the charts in view are made and drawn before the others. */
        const c = new Chart(spec, this.container, this.#context(), true);
        this.resizer.observe(c.plotEl);
        this.seen.observe(c.root);
        this.fresh.add(c);
        next.set(spec.key, c);
      }
    }
    /* Put panels in plan order (moving a node keeps its chart). */
    const ordered = plan.map((s) => next.get(s.key));
    ordered.forEach((c, i) => {
      if (this.container.children[i] !== c.root) this.container.insertBefore(c.root, this.container.children[i] || null);
    });
    this.charts = new Map(plan.map((s) => [s.key, next.get(s.key)]));
    this.container.hidden = this.charts.size === 0;
  }

  /* Repaints every chart in the current theme's colours. */
  restyle(store, interval) {
    this.colours = readColours();
    for (const c of this.charts.values()) {
      c.ctx.colours = this.colours;
      c.restyle(this.colours);
    }
    this.#fill([...this.charts.values()], store, interval, true);
  }

  /* Picks the window ("60", "300" or "all") and redraws at once, paused or not. */
  setWindow(key, store, interval) {
    if (!(key in WINDOWS)) return;
    this.window = key;
    this.#setRange(store, this.paused ? this.t1 : store.lastTs);
    this.#fill([...this.charts.values()], store, interval, true);
  }

  /* Freezes (true) or unfreezes the charts; unfreezing catches up at once, every chart. */
  setPaused(paused, store, interval) {
    this.paused = !!paused;
    if (this.paused || store.lastTs === null) return;
    this.#setRange(store, store.lastTs);
    this.#fill([...this.charts.values()], store, interval, true);
  }

  #setRange(store, end) {
    if (end === null || end === undefined) return;
    const span = WINDOWS[this.window];
    this.t1 = end;
    if (span !== null) this.t0 = end - span;
    else this.t0 = store.length ? Math.min(store.ts[0], end - 1) : end - 60;
  }

  #fill(list, store, interval, forceA11y) {
    const now = performance.now();
    const text = WINDOW_TEXT[this.window];
    this.last = { store, interval };
    for (const c of list) {
      c.setData(store, this.t0, this.t1, interval);
      c.updateA11y(now, text, forceA11y);
      c.filledAt = now;
      c.stale = false;
      this.fresh.delete(c);
    }
    if (!allChartsMarked && this.fresh.size === 0 && list.length) {
      allChartsMarked = true;
      performance.mark("vitals:all-charts");
      if (!inViewMarked) {
        inViewMarked = true;
        markPainted("vitals:charts-in-view");
      }
    }
  }

  /*
   * Redraws the charts over the window ending at the newest sample: those
   * near the viewport every time, the others every OFFSCREEN_EVERY_MS (so
   * their text alternatives stay current); while paused, only new charts.
   * New charts come in view order: at most `first` of those that start in
   * the viewport now (after the hello: the topmost, so it is painted before
   * the others are made), the rest of those in view on the next call, the
   * ones below the fold on the call after that.  True when some new chart
   * still waits.
   */
  update(store, interval, first = Infinity) {
    if (store.lastTs === null) return false;
    if (this.paused) {
      if (this.fresh.size) this.#fill([...this.fresh], store, interval, true);
      return false;
    }
    this.#setRange(store, store.lastTs);
    const now = performance.now();
    const fold = window.innerHeight;
    const due = [];
    let more = false;
    let budget = first;
    const hadFresh = this.fresh.size > 0;
    /* All reads (positions) before any write (drawing), so at most one layout. */
    for (const c of this.charts.values()) {
      let go = this.visible.has(c) || now - c.filledAt >= OFFSCREEN_EVERY_MS;
      if (this.fresh.has(c)) {
        if (c.deferred) {
          go = true;
        } else if (this.visible.has(c) || c.root.getBoundingClientRect().top < fold) {
          go = budget-- > 0;
        } else {
          /* Below the fold: after those in view are drawn (and painted). */
          go = false;
          if (budget >= 0) c.deferred = true;
        }
        if (!go) more = true;
      }
      if (go) due.push(c);
      else c.stale = true;
    }
    this.#fill(due, store, interval, false);
    /* Every new chart in view drawn (here, or by #onVisible before): mark it once painted. */
    if (!inViewMarked && hadFresh && budget >= 0) {
      inViewMarked = true;
      markPainted("vitals:charts-in-view");
    }
    return more;
  }

  /* The window shown, as text ("the last minute, 14:02:09 to 14:03:09"). */
  get windowText() {
    return `${WINDOW_TEXT[this.window]}, ${formatClock(this.t0)} to ${formatClock(this.t1)}`;
  }

  /* What each chart shows, for tests and debugging. */
  describe() {
    return [...this.charts.values()].map((c) => c.describe());
  }
}
