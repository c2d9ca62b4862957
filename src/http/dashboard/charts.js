/* charts.js — SVG charts drawn here (no library): axes, the equity curve,
 * drawdown, returns, lines over dates. */

const SVG = "http://www.w3.org/2000/svg";

/* The smallest and largest of a list of numbers (a loop: a spread of a
   million values overflows the call stack). */
function lowHigh(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (typeof v !== "number" || !isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

function svgEl(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}

function fmt(v) {
  if (typeof v !== "number") return v === null || v === undefined ? "—" : String(v);
  if (Number.isInteger(v)) return v.toLocaleString();
  return Math.abs(v) >= 1000 ? v.toLocaleString(undefined, { maximumFractionDigits: 2 })
                             : v.toPrecision(6).replace(/\.?0+$/, "");
}

/* A chart in a figure: the SVG (viewBox W x H) and its caption. */
function figure(caption, id) {
  const fig = document.createElement("figure");
  fig.appendChild(text("figcaption", caption));
  const svg = svgEl("svg", { viewBox: "0 0 600 180", class: "chart", role: "img", "aria-label": caption, id });
  fig.appendChild(svg);
  document.getElementById("result-charts").appendChild(fig);
  return svg;
}

const PAD = { l: 74, r: 8, t: 10, b: 24 };

/* An axis label: short (141.6K, 0.1258, -12.6 %). */
function tick(v) {
  if (typeof v !== "number") return "";
  if (Math.abs(v) >= 1000) return v.toLocaleString(undefined, { notation: "compact", maximumSignificantDigits: 4 });
  return Number(v.toPrecision(4)).toString();
}

function scaler(lo, hi, a, b) {
  if (hi === lo) { hi = lo + 1; lo = lo - 1; }
  return (v) => a + (v - lo) * (b - a) / (hi - lo);
}

function axisLabels(svg, lo, hi, y) {
  svg.appendChild(svgEl("line", { x1: PAD.l, x2: PAD.l, y1: PAD.t, y2: 180 - PAD.b, class: "axis" }));
  for (const v of [lo, hi]) {
    const t = svgEl("text", { x: PAD.l - 4, y: y(v) + 5, "text-anchor": "end" });
    t.textContent = tick(v);
    svg.appendChild(t);
  }
}

/* The equity curve: a line through every point; the last point marked
   with the value it was drawn from. */
function drawEquity(points) {
  if (!points || points.length === 0) return;
  const svg = figure("Equity", "chart-equity");
  const [lo, hi] = lowHigh(points.map((p) => p.equity));
  const x = scaler(0, Math.max(points.length - 1, 1), PAD.l, 600 - PAD.r), y = scaler(lo, hi, 180 - PAD.b, PAD.t);
  axisLabels(svg, lo, hi, y);
  const d = points.map((p, i) => (i ? "L" : "M") + x(i).toFixed(2) + " " + y(p.equity).toFixed(2)).join(" ");
  svg.appendChild(svgEl("path", { d, class: "line", "data-points": points.length }));
  const last = points[points.length - 1];
  svg.appendChild(svgEl("circle", { cx: x(points.length - 1), cy: y(last.equity), r: 2.5, fill: "currentColor",
                                    "data-equity": String(last.equity), "data-date": last.date }));
  for (const [i, anchor] of [[0, "start"], [points.length - 1, "end"]]) {
    const t = svgEl("text", { x: x(i), y: 177, "text-anchor": anchor });
    t.textContent = points[i].date;
    svg.appendChild(t);
  }
}

/* The drawdown from the running peak, as an area below zero. */
function drawDrawdown(points) {
  if (!points || points.length === 0) return;
  const svg = figure("Drawdown", "chart-drawdown");
  let peak = -Infinity;
  const dd = points.map((p) => { peak = Math.max(peak, p.equity); return peak > 0 ? p.equity / peak - 1 : 0; });
  const lo = Math.min(lowHigh(dd)[0], 0);
  const x = scaler(0, Math.max(points.length - 1, 1), PAD.l, 600 - PAD.r), y = scaler(lo, 0, 180 - PAD.b, PAD.t);
  axisLabels(svg, lo, 0, y);
  const d = "M" + x(0) + " " + y(0) + " " + dd.map((v, i) => "L" + x(i).toFixed(2) + " " + y(v).toFixed(2)).join(" ") +
            " L" + x(points.length - 1) + " " + y(0) + " Z";
  svg.appendChild(svgEl("path", { d, class: "area", "data-worst": String(lo) }));
}

/* A histogram of returns (20 bins). */
function drawReturns(returns, caption) {
  const svg = figure(caption, "chart-returns");
  const r = returns.filter((v) => typeof v === "number" && isFinite(v));
  svg.dataset.count = r.length;
  if (r.length === 0) return;
  const [lo, hi] = lowHigh(r), bins = 20, width = (hi - lo) / bins || 1;
  const counts = new Array(bins).fill(0);
  for (const v of r) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  const most = lowHigh(counts)[1];
  const x = scaler(0, bins, PAD.l, 600 - PAD.r), y = scaler(0, most, 180 - PAD.b, PAD.t);
  axisLabels(svg, 0, most, y);
  counts.forEach((c, i) => {
    const rect = svgEl("rect", { x: x(i) + 1, y: y(c), width: Math.max(x(i + 1) - x(i) - 2, 1), height: y(0) - y(c),
                                 class: "bar" + (lo + (i + 0.5) * width < 0 ? " neg" : "") });
    rect.appendChild(svgEl("title")).textContent = fmt(lo + i * width) + " to " + fmt(lo + (i + 1) * width) + ": " + c;
    svg.appendChild(rect);
  });
  for (const [v, i, anchor] of [[lo, 0, "start"], [hi, bins, "end"]]) {
    const t = svgEl("text", { x: x(i), y: 177, "text-anchor": anchor });
    t.textContent = tick(v);
    svg.appendChild(t);
  }
}

/* Lines over dates (several series, one scale), with a legend. */
function drawLines(container, id, caption, dates, series, format, range) {
  const fig = document.createElement("figure");
  fig.appendChild(text("figcaption", caption));
  const legend = document.createElement("div");
  legend.className = "legend";
  const svg = svgEl("svg", { viewBox: "0 0 600 180", class: "chart", role: "img", "aria-label": caption, id });
  const all = series.flatMap((s) => s.values).filter((v) => typeof v === "number");
  const [lo, hi] = range || lowHigh(all);
  const x = scaler(0, Math.max(dates.length - 1, 1), PAD.l, 600 - PAD.r), y = scaler(lo, hi, 180 - PAD.b, PAD.t);
  svg.appendChild(svgEl("line", { x1: PAD.l, x2: PAD.l, y1: PAD.t, y2: 180 - PAD.b, class: "axis" }));
  for (const v of [lo, hi]) {
    const t = svgEl("text", { x: PAD.l - 4, y: y(v) + 5, "text-anchor": "end" });
    t.textContent = format(v);
    svg.appendChild(t);
  }
  series.forEach((s, k) => {
    let d = "", pen = false, points = 0;
    s.values.forEach((v, i) => {
      if (typeof v !== "number") { pen = false; return; }
      d += (pen ? "L" : "M") + x(i).toFixed(2) + " " + y(v).toFixed(2) + " ";
      pen = true;
      points++;
    });
    svg.appendChild(svgEl("path", { d: d.trim(), class: "line s" + k, "data-series": s.name, "data-points": points }));
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = ["#2456a6", "#c2571a", "#2e8540"][k];
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(s.name));
    legend.appendChild(item);
  });
  for (const [i, anchor] of [[0, "start"], [dates.length - 1, "end"]]) {
    const t = svgEl("text", { x: x(i), y: 177, "text-anchor": anchor });
    t.textContent = dates[i];
    svg.appendChild(t);
  }
  fig.appendChild(legend);
  fig.appendChild(svg);
  container.appendChild(fig);
}
