/* result.js — a finished backtest, portfolio_backtest, screening or optimize
 * drawn: metrics, sortable tables, the heat map. */

const RESULT_TYPES = new Set(["backtest", "portfolio_backtest", "screening", "optimize"]);
const TABLE_SHOWN = 2000; /* rows drawn; a sort orders them all first */

/* A table of objects with sortable columns (click or Enter on a header). */
function drawTable(rows, columns) {
  const table = document.getElementById("result-table");
  const head = table.querySelector("thead"), body = table.querySelector("tbody");
  head.replaceChildren();
  document.getElementById("result-table-empty").hidden = rows.length > 0;
  table.hidden = rows.length === 0;
  const tr = document.createElement("tr");
  let order = { key: null, dir: 1 };
  const fill = () => {
    const sorted = rows.slice();
    if (order.key !== null) {
      sorted.sort((a, b) => {
        const u = a[order.key], v = b[order.key];
        if (u === v) return 0;
        if (u === null || u === undefined) return 1;
        if (v === null || v === undefined) return -1;
        return (u < v ? -1 : 1) * order.dir;
      });
    }
    body.replaceChildren();
    for (const row of sorted.slice(0, TABLE_SHOWN)) {
      const r = document.createElement("tr");
      for (const key of columns) {
        const v = row[key];
        r.appendChild(text("td", typeof v === "object" && v !== null ? JSON.stringify(v) : fmt(v),
                           typeof v === "number" ? "num" : ""));
      }
      body.appendChild(r);
    }
    if (sorted.length > TABLE_SHOWN) {
      const more = document.createElement("tr");
      const cell = text("td", "The first " + TABLE_SHOWN.toLocaleString() + " of " + sorted.length.toLocaleString() +
                              " rows (sort to see others first; the API gives all).", "empty");
      cell.colSpan = columns.length;
      more.appendChild(cell);
      body.appendChild(more);
    }
  };
  for (const key of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.dataset.key = key;
    const b = text("button", key, "sort");
    b.type = "button";
    b.addEventListener("click", () => {
      order = { key, dir: order.key === key ? -order.dir : 1 };
      for (const h of tr.children) h.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", order.dir > 0 ? "ascending" : "descending");
      fill();
    });
    th.appendChild(b);
    tr.appendChild(th);
  }
  head.appendChild(tr);
  fill();
}

/* The heat map: one cell per (x, y), coloured from the lowest objective
   (light) to the highest (dark); grey where there is none. */
function drawHeatMap(hm, objective, best) {
  const fig = document.createElement("figure");
  fig.appendChild(text("figcaption", objective + " by " + hm.x.name + " (across) and " + hm.y.name + " (down)"));
  const nx = hm.x.values.length, ny = hm.y.values.length;
  const W = 600, H = Math.max(140, Math.min(600, 26 * ny + 34)), L = 56, T = 4, B = 30;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", id: "chart-heat",
                             "aria-label": "heat map of " + objective, style: `height:${H}px` });
  fig.appendChild(svg);
  document.getElementById("result-charts").appendChild(fig);
  const [lo, hi] = lowHigh(hm.z.flat());
  const cw = (W - L - 4) / nx, ch = (H - T - B) / ny;
  hm.y.values.forEach((yv, j) => {
    hm.x.values.forEach((xv, i) => {
      const z = hm.z[j][i];
      const f = typeof z === "number" ? (hi > lo ? (z - lo) / (hi - lo) : 1) : null;
      const rect = svgEl("rect", { x: L + i * cw, y: T + j * ch, width: Math.max(cw - 1, 1), height: Math.max(ch - 1, 1),
                                   fill: f === null ? "#e3e6ea" : `hsl(215, 62%, ${92 - 56 * f}%)`,
                                   "data-x": String(xv), "data-y": String(yv), "data-z": z === null ? "" : String(z) });
      if (best && best[hm.x.name] === xv && best[hm.y.name] === yv) {
        rect.setAttribute("stroke", "#c2571a");
        rect.setAttribute("stroke-width", "3");
        rect.dataset.best = "1";
      }
      rect.appendChild(svgEl("title")).textContent = `${hm.x.name} ${xv}, ${hm.y.name} ${yv}: ${fmt(z)}`;
      svg.appendChild(rect);
    });
  });
  const every = (n) => Math.max(1, Math.ceil(n / 12));
  hm.x.values.forEach((xv, i) => {
    if (i % every(nx)) return;
    const t = svgEl("text", { x: L + (i + 0.5) * cw, y: H - 10, "text-anchor": "middle" });
    t.textContent = xv;
    svg.appendChild(t);
  });
  hm.y.values.forEach((yv, j) => {
    if (j % every(ny)) return;
    const t = svgEl("text", { x: L - 6, y: T + (j + 0.5) * ch + 5, "text-anchor": "end" });
    t.textContent = yv;
    svg.appendChild(t);
  });
}

/* An optimize job: the best's curve (or the walk-forward's stitched
   out-of-sample curve), the heat map, the best's params and metrics, and
   the whole table from the database. */
async function renderOptimize(id, job, data) {
  const best = data.best || {};
  if (best.equity_curve && best.equity_curve.length) drawEquity(best.equity_curve);
  else if (data.out_of_sample && (data.out_of_sample.equity_curve || []).length) drawEquity(data.out_of_sample.equity_curve);
  if (data.heat_map) drawHeatMap(data.heat_map, data.objective, best.params);
  const metrics = document.querySelector("#result-metrics tbody");
  for (const [k, v] of Object.entries(best.params || {})) {
    const tr = document.createElement("tr");
    tr.dataset.param = k;
    tr.appendChild(text("th", "best " + k));
    tr.appendChild(text("td", fmt(v), "num"));
    metrics.prepend(tr);
  }
  for (const [k, v] of Object.entries(best.metrics || {})) {
    const tr = document.createElement("tr");
    tr.dataset.metric = k;
    tr.appendChild(text("th", k));
    tr.appendChild(text("td", fmt(v), "num"));
    metrics.appendChild(tr);
  }
  for (const k of ["combinations", "ranked", "failed_combinations", "chunks"]) {
    if (typeof data[k] !== "number") continue;
    const tr = document.createElement("tr");
    tr.dataset.metric = k;
    tr.appendChild(text("th", k));
    tr.appendChild(text("td", fmt(data[k]), "num"));
    metrics.appendChild(tr);
  }
  document.getElementById("result-table-h").textContent = "Every combination, ranked by " + data.objective;
  let table;
  try {
    table = await api("/api/tables/" + encodeURIComponent(id) + "?limit=100000");
    if (shownResult !== id) return; /* another result is on screen now */
  } catch (e) {
    document.getElementById("result-table-h").textContent = "The table cannot be read: " + e.message;
    drawTable([], []);
    return;
  }
  const rows = table.rows.map((r) => {
    const flat = {};
    if (r.fold !== undefined) flat.fold = r.fold;
    flat.rank = r.rank;
    flat[data.objective] = r.objective;
    for (const [k, v] of Object.entries(r.params || {})) flat[k] = v;
    for (const [k, v] of Object.entries(r.metrics || {})) if (!(k in flat)) flat[k] = v;
    if (r.error) flat.error = r.error;
    return flat;
  });
  drawTable(rows, columnsOf(rows, []));
}

function columnsOf(rows, first) {
  const keys = new Set(first);
  for (const r of rows.slice(0, 200)) for (const k of Object.keys(r)) keys.add(k);
  return [...keys];
}

let shownResult = null; /* the id whose finished result is on screen: drawn once */

function renderResult(id, job) {
  const link = document.getElementById("result-job");
  link.textContent = id;
  link.href = "#/job/" + encodeURIComponent(id);
  const none = document.getElementById("result-none"), body = document.getElementById("result-body");
  const res = job && job.result;
  let why = null;
  if (job === null) why = "No such job (unknown id, or its record expired).";
  else if (!RESULT_TYPES.has(job.type)) why = "A " + job.type + " job: results are drawn for backtest, portfolio_backtest, screening and optimize.";
  else if (!res || res.status !== "completed") why = "No result yet: the job is " + job.state + (res && res.data && res.data.error ? " (" + res.data.error + ")" : "") + ".";
  none.hidden = why === null;
  body.hidden = why !== null;
  if (why !== null) { none.textContent = why; shownResult = null; return false; }
  if (shownResult === id) return true;
  shownResult = id;
  const data = res.data;
  document.getElementById("result-charts").replaceChildren();
  const metrics = document.querySelector("#result-metrics tbody");
  metrics.replaceChildren();
  for (const [k, v] of Object.entries(data.performance_metrics || {})) {
    const tr = document.createElement("tr");
    tr.dataset.metric = k;
    tr.appendChild(text("th", k));
    tr.appendChild(text("td", fmt(v), "num"));
    metrics.appendChild(tr);
  }
  if (data.summary) {
    for (const [k, v] of Object.entries(data.summary)) {
      if (typeof v !== "number") continue;
      const tr = document.createElement("tr");
      tr.dataset.metric = k;
      tr.appendChild(text("th", k));
      tr.appendChild(text("td", fmt(v), "num"));
      metrics.appendChild(tr);
    }
  }
  const mode = data.execution_mode || job.type;
  if (mode === "optimize") {
    renderOptimize(id, job, data);
  } else if (mode === "portfolio_backtest") {
    if ((data.equity_curve || []).length > 0) { drawEquity(data.equity_curve); drawDrawdown(data.equity_curve); }
    drawReturns((data.trades || []).map((t) => t.return), "Trade returns");
    document.getElementById("result-table-h").textContent = "Trades";
    drawTable(data.trades || [], columnsOf(data.trades || [], ["ticker", "side", "entry_date", "exit_date", "return", "pnl"]));
  } else if (mode === "backtest") {
    drawReturns((data.instances || []).map((t) => t.return), "Signal returns");
    document.getElementById("result-table-h").textContent = "Instances";
    drawTable(data.instances || [], columnsOf(data.instances || [], ["ticker", "date", "return"]));
  } else {
    document.getElementById("result-table-h").textContent = "Ranked results";
    drawTable(data.ranked_results || [], columnsOf(data.ranked_results || [], ["rank", "ticker", "score", "signal", "message"]));
  }
  document.getElementById("result-source").textContent = (job.args && job.args.strategy_code) || "";
  document.getElementById("result-output").textContent = data.strategy_output || "nothing";
  return true;
}
