/*
 * chart.js — one uPlot chart, built from a chart spec (see charts.js).
 *
 * The chart owns its panel: a title, the plot, and a visually hidden
 * description. Around uPlot it adds what people need to read it:
 *   - theme colours, read from the page's CSS variables when it is built;
 *   - a tooltip at the cursor (time and the value of each shown series), and
 *     legend values at the cursor, or at the newest point otherwise;
 *   - legend entries that are buttons: click, Enter or Space shows or hides
 *     a series, and aria-pressed says which;
 *   - a text alternative: the plot is role="img" with a label summarising
 *     each series' latest value, plus a longer description (lowest, highest),
 *     both refreshed at most every few seconds.
 * Data arrays are reused from one update to the next, and each update draws
 * synchronously (uPlot's batch), so the caller can time it.
 */

import { el, setText, setAttr } from "./dom.js";
import { formatRate, formatValue, formatTicks, unitLabel, binaryIncrs, formatClock, isNumber, DASH } from "./format.js";

const FALLBACK_PALETTE = ["#4f9dff", "#3ddc97", "#ffb547", "#f472b6", "#a78bfa", "#22d3ee", "#fb7185", "#a3e635", "#f97316", "#94a3b8"];
const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const LABEL_FONT = "600 12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const TIP_ROWS = 8;                  /* series listed in the tooltip before "+N more" */
const LABEL_SERIES = 6;              /* series named in the aria-label before "and N more" */
export const A11Y_EVERY_MS = 5000;   /* the text alternative is refreshed at most this often */

/* Tick steps for whole counts: 1, 2, 5, 10, 20, 50, … */
const COUNT_INCRS = Array.from({ length: 13 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

let firstChartMarked = false;
let serial = 0;

/*
 * Sets the User Timing mark `name` once what was just drawn is painted: a
 * task queued by the next frame runs after that frame's paint.
 */
export function markPainted(name) {
  requestAnimationFrame(() => setTimeout(() => performance.mark(name), 0));
}

/* The chart colours of the current theme, from the CSS variables. */
export function readColours() {
  const cs = getComputedStyle(document.documentElement);
  const v = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
  return {
    axis: v("--chart-axis", "#8b98a9"),
    grid: v("--chart-grid", "rgba(148, 163, 184, 0.12)"),
    palette: FALLBACK_PALETTE.map((c, i) => v(`--series-${i}`, c)),
  };
}

/* "#rrggbb" plus an alpha byte ("2e"); other colour forms are kept as they are. */
function withAlpha(colour, alphaHex) {
  return /^#[0-9a-f]{6}$/i.test(colour) ? colour + alphaHex : colour;
}

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

/*
 * Measured tick label widths (CSS px) by font and text, on a canvas of their
 * own: setting a canvas font is slow, so it is set only when it changes
 * (uPlot's canvases change theirs on every draw).
 */
const textWidths = new Map();
let measurer = null;
let measurerFont = "";

function textWidth(font, text) {
  const key = `${font}\u0000${text}`;
  let w = textWidths.get(key);
  if (w === undefined) {
    if (textWidths.size > 4000) textWidths.clear();
    if (!measurer) measurer = document.createElement("canvas").getContext("2d");
    if (measurerFont !== font) {
      measurer.font = font;
      measurerFont = font;
    }
    w = measurer.measureText(text).width / (globalThis.devicePixelRatio || 1);
    textWidths.set(key, w);
  }
  return w;
}

/* Axis width that fits its longest tick label (plus the label, if any). */
function axisSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap;
  const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), "");
  if (longest) size += textWidth(axis.font[0], longest);
  return Math.ceil(size) + 4;
}

function yAxis(scale, spec, side, labelled, colours) {
  const byteLike = spec.unit === "bytes" || spec.unit === "MiB";
  const wholeCounts = spec.unit === "count" && !spec.rate;
  return {
    scale,
    side,
    stroke: colours.axis,
    font: FONT,
    labelFont: LABEL_FONT,
    label: labelled ? unitLabel(spec.unit, spec.rate) || null : null,
    labelSize: 18,
    grid: { show: side === 3, stroke: colours.grid, width: 1 },
    ticks: { show: false, size: 0 },
    gap: 6,
    incrs: byteLike ? binaryIncrs(spec.unit) : wholeCounts ? COUNT_INCRS : undefined,
    values: (u, splits) => formatTicks(splits, spec.unit, spec.rate),
    size: axisSize,
  };
}

/* How a series' number reads: "5.5 %", "12 /s", "—". */
function formatterOf(s) {
  return s.rate ? (v) => formatRate(v, s.unit, s.precision) : (v) => formatValue(v, s.unit, s.precision);
}

function seriesOptions(s, colours, show) {
  const fmt = formatterOf(s);
  const colour = colours.palette[s.colour % colours.palette.length];
  const opt = {
    label: s.label,
    show,
    scale: s.side === "right" ? "yr" : "y",
    stroke: colour,
    width: 1.75,
    spanGaps: false,
    points: { show: false },
    value: (u, v) => fmt(v),
  };
  if (s.dash) opt.dash = s.dash;
  if (s.style === "area") opt.fill = withAlpha(colour, "2e");
  if (s.style === "bar") {
    opt.paths = uplot().paths.bars({ size: [0.7, 24], align: 0 });
    opt.fill = withAlpha(colour, "a6");
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

/* A function giving series `s`'s value at row i of the store (null for none). */
function valueGetter(s, col, ts) {
  if (!col) return () => null;
  if (s.rate) {
    return (i) => {
      if (i === 0) return null;
      const cur = col[i];
      const prev = col[i - 1];
      const dt = ts[i] - ts[i - 1];
      return typeof cur === "number" && typeof prev === "number" && cur >= prev && dt > 0 ? (cur - prev) / dt : null;
    };
  }
  if (s.at !== undefined) {
    const at = s.at;
    return (i) => {
      const v = col[i];
      return Array.isArray(v) && isNumber(v[at]) ? v[at] : null;
    };
  }
  return (i) => (isNumber(col[i]) ? col[i] : null);
}

export class Chart {
  /*
   * ctx: { range() → [t0, t1], colours, height, width(plotEl) (px),
   *        isHidden(spec, series), onToggle(spec, series, show) }
   */
  constructor(spec, parent, ctx, lazy = false) {
    this.spec = spec;
    this.signature = JSON.stringify(spec);
    this.ctx = ctx;
    this.height = ctx.height;
    this.width = 0;
    this.formatters = spec.series.map(formatterOf);
    this.buf = [[], ...spec.series.map(() => [])];
    this.a11yAt = -Infinity;
    this.windowText = "";
    this.filledAt = -Infinity;     /* performance.now() of the last setData */
    this.stale = false;            /* newer samples exist than it shows */
    this.deferred = false;         /* new and below the fold: drawn a frame later */

    const n = ++serial;
    this.titleId = `chart-title-${n}`;
    this.descId = `chart-desc-${n}`;
    this.plotEl = el("div", { class: "plot" });
    this.desc = el("p", { class: "sr-only", id: this.descId }, "No data yet.");
    this.root = el("section", { class: "panel", "aria-labelledby": this.titleId },
      el("h2", { class: "panel-title", id: this.titleId }, spec.title), this.plotEl, this.desc);
    parent.append(this.root);
    this.u = null;
    if (lazy) {
      /* Holds the plot's place until it is made (see ensure()). */
      this.plotEl.style.minHeight = `${this.height}px`;
    } else {
      this.#create(ctx.colours);
    }
  }

  /*
   * Makes the uPlot instance of a chart built lazily: charts far below the
   * fold are only shells (title, description, reserved height) until they
   * are first drawn, so a page with many charts shows its first ones sooner.
   */
  ensure() {
    if (this.u) return;
    this.#create(this.ctx.colours);
    this.plotEl.style.minHeight = "";
  }

  get made() {
    return this.u !== null;
  }

  #create(colours) {
    const spec = this.spec;
    const { left, right } = spec.axes;
    const dual = !!(left && right);
    const scales = { x: { time: true, range: () => this.ctx.range() } };
    const axes = [{
      stroke: colours.axis,
      font: FONT,
      size: 30,
      grid: { stroke: colours.grid, width: 1 },
      ticks: { show: false, size: 0 },
      space: 84,
      values: (u, splits) => splits.map((t) => formatClock(t)),
    }];
    if (left) {
      scales.y = { range: rangeFn(left) };
      axes.push(yAxis("y", left, 3, dual, colours));
    }
    if (right) {
      scales.yr = { range: rangeFn(right) };
      const ax = yAxis("yr", right, 1, true, colours);
      if (!left) ax.grid.show = true;    /* every member on the right: its axis carries the grid */
      axes.push(ax);
    }
    if (!this.width) this.width = Math.max(Math.floor(this.ctx.width(this.plotEl)), 280);
    this.u = new (uplot())({
      width: this.width,
      height: this.height,
      pxAlign: false,
      cursor: { sync: { key: "dashboard" }, drag: { x: false, y: false, setScale: false }, points: { size: 7 } },
      legend: { live: true },
      scales,
      axes,
      series: [
        { label: "Time", value: (u, t) => formatClock(t) },
        ...spec.series.map((s) => seriesOptions(s, colours, !this.ctx.isHidden(spec, s))),
      ],
      hooks: {
        setLegend: [legendAtLatest],
        setCursor: [(u) => this.#moveTip(u)],
        setSeries: [(u, i, opts) => this.#onSeries(i, opts)],
        draw: [(u) => {
          if (!firstChartMarked && u.data[0].length > 0) {
            firstChartMarked = true;
            markPainted("vitals:first-chart");
          }
        }],
      },
    }, this.buf, this.plotEl);
    this.#decorate(colours);
  }

  /* Accessibility and the tooltip, around what uPlot built. */
  #decorate(colours) {
    const u = this.u;
    this.wrap = u.root.querySelector(".u-wrap");
    this.wrap.setAttribute("role", "img");
    this.wrap.setAttribute("aria-describedby", this.descId);
    this.wrap.setAttribute("aria-label", `${this.spec.title}: no data yet`);
    this.a11yAt = -Infinity;

    /* The legend table is a list of toggle buttons, not tabular data. */
    const legend = u.root.querySelector(".u-legend");
    this.legendButtons = [];
    if (legend) {
      legend.setAttribute("role", "presentation");
      const rows = legend.querySelectorAll(".u-series");
      rows.forEach((row, i) => {
        if (i === 0 || i >= u.series.length) return;
        const th = row.querySelector("th");
        if (!th) return;
        th.setAttribute("role", "button");
        th.setAttribute("tabindex", "0");
        th.setAttribute("aria-pressed", String(u.series[i].show));
        th.setAttribute("aria-label", u.series[i].label);
        th.setAttribute("title", `Show or hide ${u.series[i].label}`);
        th.addEventListener("keydown", (ev) => {
          if (ev.key !== "Enter" && ev.key !== " " && ev.key !== "Spacebar") return;
          ev.preventDefault();
          u.setSeries(i, { show: !u.series[i].show });
        });
        this.legendButtons[i] = th;
      });
    }

    this.tip = el("div", { class: "tip", "aria-hidden": "true", hidden: true });
    this.tipTime = el("div", { class: "tip-time" });
    this.tipMore = el("div", { class: "tip-label", hidden: true });
    this.tipRows = [];
    this.tip.append(this.tipTime, this.tipMore);
    this.tipColours = this.spec.series.map((s) => colours.palette[s.colour % colours.palette.length]);
    u.over.append(this.tip);
    /* Charts share the cursor; only the one under the pointer shows a tooltip. */
    this.hovered = false;
    u.over.addEventListener("mouseenter", () => { this.hovered = true; });
    u.over.addEventListener("mouseleave", () => {
      this.hovered = false;
      this.tip.hidden = true;
    });
  }

  #onSeries(i, opts) {
    if (i == null || !opts || opts.show === undefined) return;
    const th = this.legendButtons[i];
    if (th) th.setAttribute("aria-pressed", String(opts.show));
    const s = this.spec.series[i - 1];
    if (s) this.ctx.onToggle(this.spec, s, opts.show);
    this.a11yAt = -Infinity;
    this.updateA11y(performance.now());
  }

  #tipRow(r) {
    let row = this.tipRows[r];
    if (!row) {
      const mark = el("span", { class: "tip-mark" });
      const label = el("span", { class: "tip-label" });
      const value = el("span", { class: "tip-value" });
      row = { node: el("div", { class: "tip-row" }, mark, label, value), mark, label, value, colour: "" };
      this.tip.insertBefore(row.node, this.tipMore);
      this.tipRows[r] = row;
    }
    return row;
  }

  #moveTip(u) {
    const { left, top, idx } = u.cursor;
    if (!this.hovered || idx == null || left == null || left < 0 || !u.data[0].length) {
      this.tip.hidden = true;
      return;
    }
    setText(this.tipTime, formatClock(u.data[0][idx]));
    let r = 0;
    let more = 0;
    for (let i = 1; i < u.series.length; i++) {
      if (!u.series[i].show) continue;
      if (r >= TIP_ROWS) {
        more++;
        continue;
      }
      const row = this.#tipRow(r++);
      row.node.hidden = false;
      const colour = this.tipColours[i - 1];
      if (row.colour !== colour) {
        row.colour = colour;
        row.mark.style.background = colour;
      }
      setText(row.label, u.series[i].label);
      const v = u.data[i][idx];
      setText(row.value, v == null ? DASH : this.formatters[i - 1](v));
    }
    for (let k = r; k < this.tipRows.length; k++) this.tipRows[k].node.hidden = true;
    this.tipMore.hidden = more === 0;
    if (more) setText(this.tipMore, `+${more} more`);
    this.tip.hidden = false;

    /* Beside the cursor, flipped to the other side near the right or bottom edge. */
    const dpr = globalThis.devicePixelRatio || 1;
    const w = u.bbox.width / dpr;
    const h = u.bbox.height / dpr;
    const tw = this.tip.offsetWidth;
    const th = this.tip.offsetHeight;
    let x = left + 14;
    if (x + tw > w) x = Math.max(0, left - tw - 14);
    let y = (top ?? 0) + 14;
    if (y + th > h) y = Math.max(0, h - th);
    this.tip.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
  }

  /*
   * Shows the samples of `store` in [t0, t1] (plus two intervals before t0,
   * so the line enters from the edge); `interval` spaces the gap markers.
   */
  setData(store, t0, t1, interval) {
    const ts = store.ts;
    const from = store.indexAtOrAfter(t0 - 2 * interval);
    const to = Math.min(store.length, store.indexAtOrAfter(t1 + 1e-6));
    const get = this.spec.series.map((s) => valueGetter(s, store.column(s.id), ts));
    const [x, ...ys] = this.buf;
    /* A pause longer than a few intervals is a gap, not a straight line. */
    const gap = Math.max(interval * 2.5, interval + 1);
    let k = 0;
    for (let i = from; i < to; i++) {
      if (i > from && ts[i] - ts[i - 1] > gap) {
        x[k] = ts[i - 1] + interval;
        for (let j = 0; j < ys.length; j++) ys[j][k] = null;
        k++;
      }
      x[k] = ts[i];
      for (let j = 0; j < ys.length; j++) ys[j][k] = get[j](i);
      k++;
    }
    x.length = k;
    for (const y of ys) y.length = k;
    this.ensure();
    this.u.batch(() => this.u.setData(this.buf));
  }

  /* Refreshes the text alternative (at most every A11Y_EVERY_MS unless forced). */
  updateA11y(now, windowText = this.windowText, force = false) {
    if (windowText !== this.windowText) {
      this.windowText = windowText;
      force = true;
    }
    if (!this.u || (!force && now - this.a11yAt < A11Y_EVERY_MS)) return;
    this.a11yAt = now;
    const u = this.u;
    const x = u.data[0];
    if (!x.length) {
      setAttr(this.wrap, "aria-label", `${this.spec.title}: no data yet`);
      setText(this.desc, "No data yet.");
      return;
    }
    const short = [];
    const long = [];
    for (let i = 1; i < u.series.length; i++) {
      const s = u.series[i];
      const col = u.data[i];
      const fmt = this.formatters[i - 1];
      let last = null;
      let lo = Infinity;
      let hi = -Infinity;
      for (let k = 0; k < col.length; k++) {
        const v = col[k];
        if (v == null) continue;
        last = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (!s.show) {
        short.push(`${s.label} hidden`);
        continue;
      }
      short.push(`${s.label} ${fmt(last)}`);
      long.push(last === null
        ? `${s.label}: no value.`
        : `${s.label}: latest ${fmt(last)}, lowest ${fmt(lo)}, highest ${fmt(hi)}.`);
    }
    const named = short.slice(0, LABEL_SERIES).join(", ");
    const rest = short.length > LABEL_SERIES ? ` and ${short.length - LABEL_SERIES} more` : "";
    setAttr(this.wrap, "aria-label", `${this.spec.title}, latest: ${named}${rest}`);
    const span = `${formatClock(x[0])} to ${formatClock(x[x.length - 1])}`;
    setText(this.desc, `Chart of ${this.windowText || "recent samples"}, ${span}. ${long.join(" ")}`);
  }

  /* Rebuilds the uPlot instance with new colours (a theme change). */
  restyle(colours) {
    if (!this.u) return;           /* made later, in the colours of its day */
    this.u.destroy();
    this.#create(colours);
  }

  resize(width, height) {
    const w = Math.max(Math.floor(width), 200);
    if (w === this.width && height === this.height) return;
    this.width = w;
    this.height = height;
    if (this.u) this.u.setSize({ width: w, height });
    else this.plotEl.style.minHeight = `${height}px`;
  }

  /* What the chart shows, for tests and debugging. */
  describe() {
    if (!this.u) {
      return {
        title: this.spec.title, points: 0, series: this.spec.series.length, made: false,
        legend: this.spec.series.map((s) => ({ label: s.label, show: !this.ctx.isHidden(this.spec, s) })),
        nonNull: 0, x0: null, x1: null, xMin: null, xMax: null,
      };
    }
    const u = this.u;
    const x = u.data[0];
    return {
      title: this.spec.title,
      made: true,
      points: x.length,
      series: u.series.length - 1,
      legend: u.series.slice(1).map((s) => ({ label: s.label, show: s.show })),
      nonNull: u.data.slice(1).reduce((n, col) => n + col.filter((v) => v != null).length, 0),
      x0: x.length ? x[0] : null,
      x1: x.length ? x[x.length - 1] : null,
      xMin: u.scales.x.min ?? null,
      xMax: u.scales.x.max ?? null,
    };
  }

  destroy() {
    if (this.u) this.u.destroy();
    this.root.remove();
  }
}
