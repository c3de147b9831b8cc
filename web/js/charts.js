/*
 * charts.js — one uPlot chart per distinct descriptor `chart`.
 *
 * The plan (which charts, which series, which axes) comes from descriptors
 * alone: members of a chart share it in priority order, the chart's title is
 * its `chart_title`, charts are ordered by their lowest member priority.
 * Gauges plot their value, counters their rate per second, histograms three
 * series (p50, p95, p99); text metrics are never charted. The x scale is a
 * rolling window ending at the newest sample.
 */

import { el } from "./dom.js";
import { formatRate, formatValue, formatTicks, unitLabel, binaryIncrs, formatClock, isNumber } from "./format.js";
import { byPriority, priorityOf, titleOf, precisionOf, KIND, HIST } from "./descriptors.js";
import { counterRates } from "./store.js";

export const WINDOW_SECONDS = 60;

const PALETTE = ["#4f9dff", "#3ddc97", "#ffb547", "#f472b6", "#a78bfa", "#22d3ee", "#fb7185", "#a3e635", "#f97316", "#94a3b8"];
const AXIS_STROKE = "#8b98a9";
const GRID_STROKE = "rgba(148, 163, 184, 0.12)";
const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const LABEL_FONT = "600 12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const PERCENTILES = [
  { label: "p50", at: HIST.P50, dash: null },
  { label: "p95", at: HIST.P95, dash: [6, 4] },
  { label: "p99", at: HIST.P99, dash: [2, 3] },
];

/* Tick steps for whole counts: 1, 2, 5, 10, 20, 50, … */
const COUNT_INCRS = Array.from({ length: 13 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

/* ---- planning: descriptors → chart specs (pure) ---- */

/* The series of one member; `nextColour()` hands out the chart's palette in order. */
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
    const series = g.members.flatMap((d) => {
      return seriesFor(d, () => PALETTE[next++ % PALETTE.length]);
    });
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

/* ---- uPlot options ---- */

function uplot() {
  return globalThis.uPlot;
}

function rangeFn(axis) {
  return (u, dmin, dmax) => {
    if (!isNumber(dmin) || !isNumber(dmax)) return [axis.min ?? 0, axis.max ?? 1];
    const [amin, amax] = uplot().rangeNum(dmin, dmax, 0.1, true);
    const lo = axis.min !== null ? Math.min(axis.min, dmin) : amin;
    const hi = axis.max !== null ? Math.max(axis.max, dmax) : amax;
    return hi > lo ? [lo, hi] : [lo, lo + 1];
  };
}

/* Axis width that fits its longest tick label (plus the label, if any). */
function axisSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap;
  const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), "");
  if (longest) {
    u.ctx.font = axis.font[0];
    size += u.ctx.measureText(longest).width / (globalThis.devicePixelRatio || 1);
  }
  return Math.ceil(size) + 4;
}

function yAxis(scale, spec, side, labelled) {
  const byteLike = spec.unit === "bytes" || spec.unit === "MiB";
  const wholeCounts = spec.unit === "count" && !spec.rate;
  return {
    scale,
    side,
    stroke: AXIS_STROKE,
    font: FONT,
    labelFont: LABEL_FONT,
    label: labelled ? unitLabel(spec.unit, spec.rate) || null : null,
    labelSize: 18,
    grid: { show: side === 3, stroke: GRID_STROKE, width: 1 },
    ticks: { show: false, size: 0 },
    gap: 6,
    incrs: byteLike ? binaryIncrs(spec.unit) : wholeCounts ? COUNT_INCRS : undefined,
    values: (u, splits) => formatTicks(splits, spec.unit, spec.rate),
    size: axisSize,
  };
}

function seriesOptions(s) {
  const up = uplot();
  const fmt = s.rate
    ? (u, v) => formatRate(v, s.unit, s.precision)
    : (u, v) => formatValue(v, s.unit, s.precision);
  const opt = {
    label: s.label,
    scale: s.side === "right" ? "yr" : "y",
    stroke: s.colour,
    width: 1.75,
    spanGaps: false,
    points: { show: false },
    value: fmt,
  };
  if (s.dash) opt.dash = s.dash;
  if (s.style === "area") opt.fill = s.colour.slice(0, 7) + "2e";
  if (s.style === "bar") {
    opt.paths = up.paths.bars({ size: [0.7, 24], align: 0 });
    opt.fill = s.colour.slice(0, 7) + "a6";
    opt.width = 1;
  }
  return opt;
}

/* Shows each series' newest value in the legend while the cursor is elsewhere. */
function legendAtLatest(u) {
  if (u.cursor.idx != null) return;
  const idxs = u.data.map((col, si) => {
    if (si === 0) return col.length - 1;
    for (let i = col.length - 1; i >= 0; i--) if (col[i] != null) return i;
    return null;
  });
  u.setLegend({ idxs }, false);
}

/* ---- one chart ---- */

class Chart {
  constructor(spec, parent, windowFn, height) {
    this.spec = spec;
    this.signature = JSON.stringify(spec);
    this.plotEl = el("div", { class: "plot" });
    this.root = el("section", { class: "panel", "aria-label": spec.title },
      el("h2", { class: "panel-title" }, spec.title), this.plotEl);
    parent.append(this.root);
    this.height = height;
    this.width = 0;

    const { left, right } = spec.axes;
    const dual = !!(left && right);
    const scales = { x: { time: true, range: () => windowFn() } };
    const axes = [{
      stroke: AXIS_STROKE, font: FONT,
      size: 30,
      grid: { stroke: GRID_STROKE, width: 1 },
      ticks: { show: false, size: 0 },
      space: 84,
      values: (u, splits) => splits.map((t) => formatClock(t)),
    }];
    if (left) {
      scales.y = { range: rangeFn(left) };
      axes.push(yAxis("y", left, 3, dual));
    }
    if (right) {
      scales.yr = { range: rangeFn(right) };
      const ax = yAxis("yr", right, 1, true);
      if (!left) ax.grid.show = true;    /* every member on the right: its axis carries the grid */
      axes.push(ax);
    }
    this.width = Math.max(Math.floor(this.plotEl.clientWidth), 280);
    this.u = new (uplot())({
      width: this.width,
      height,
      pxAlign: false,
      cursor: { sync: { key: "vitals" }, drag: { x: false, y: false, setScale: false }, points: { size: 7 } },
      legend: { live: true },
      scales,
      axes,
      series: [{ label: "Time", value: (u, t) => formatClock(t) }, ...spec.series.map(seriesOptions)],
      hooks: { setLegend: [legendAtLatest] },
    }, this.emptyData(), this.plotEl);
  }

  emptyData() {
    return [[], ...this.spec.series.map(() => [])];
  }

  /* Shows the window [t0, t1] of `store`; `interval` spaces the gap markers. */
  setData(store, t0, interval) {
    const from = store.indexAtOrAfter(t0 - 2 * interval);
    const to = store.length;
    const ts = store.ts;
    const cols = this.spec.series.map((s) => {
      const col = store.column(s.id);
      if (!col) return new Array(to - from).fill(null);
      if (s.rate) return counterRates(ts, col, from, to);
      if (s.at !== undefined) return col.slice(from, to).map((v) => (Array.isArray(v) && isNumber(v[s.at]) ? v[s.at] : null));
      return col.slice(from, to).map((v) => (isNumber(v) ? v : null));
    });
    /* A pause longer than a few intervals is a gap, not a straight line. */
    const gap = Math.max(interval * 2.5, interval + 1);
    const x = [];
    const ys = cols.map(() => []);
    for (let i = from; i < to; i++) {
      if (i > from && ts[i] - ts[i - 1] > gap) {
        x.push(ts[i - 1] + interval);
        for (const y of ys) y.push(null);
      }
      x.push(ts[i]);
      for (let k = 0; k < cols.length; k++) ys[k].push(cols[k][i - from]);
    }
    this.u.setData([x, ...ys]);
  }

  resize(width, height) {
    const w = Math.max(Math.floor(width), 200);
    if (w === this.width && height === this.height) return;
    this.width = w;
    this.height = height;
    this.u.setSize({ width: w, height });
  }

  destroy() {
    this.u.destroy();
    this.root.remove();
  }
}

/* ---- the set of charts ---- */

export class Charts {
  constructor(container) {
    this.container = container;
    this.charts = new Map();      /* chart key → Chart */
    this.t0 = 0;
    this.t1 = WINDOW_SECONDS;
    this.resizer = new ResizeObserver((entries) => this.#onResize(entries));
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

  /* Rebuilds the charts for `descs`, keeping the charts whose shape is unchanged. */
  build(descs) {
    if (typeof uplot() !== "function") throw new Error("the charting library (uPlot) did not load");
    const plan = planCharts(descs);
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
      old.destroy();
    }
    for (const spec of plan) {
      if (!next.has(spec.key)) {
        const c = new Chart(spec, this.container, () => [this.t0, this.t1], this.#plotHeight());
        this.resizer.observe(c.plotEl);
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

  /* Redraws every chart over the window ending at the newest sample. */
  update(store, interval) {
    const end = store.lastTs;
    if (end === null) return;
    this.t1 = end;
    this.t0 = end - WINDOW_SECONDS;
    for (const c of this.charts.values()) c.setData(store, this.t0, interval);
  }
}
