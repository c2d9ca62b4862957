/* options.js — the options view: each symbol's latest IV row, a symbol's IV
 * history, the opportunity scan. */

const pct = (v) => (typeof v === "number" ? (v * 100).toFixed(1) + " %" : "—");
const plain = (v) => (typeof v === "number" ? v.toFixed(1) : "—");

function renderIv(symbol, reply) {
  document.getElementById("iv-section").hidden = false;
  document.getElementById("iv-symbol").textContent = symbol;
  const charts = document.getElementById("iv-charts");
  charts.replaceChildren();
  const rows = reply.rows || [];
  const empty = document.getElementById("iv-empty");
  empty.hidden = rows.length > 0;
  empty.textContent = "No IV history of " + symbol + (reply.from ? " from " + reply.from + " to " + reply.to : "") +
                      ": run calculate_iv_analysis for it (docs/options.md).";
  if (rows.length === 0) return;
  const dates = rows.map((r) => r.date);
  drawLines(charts, "chart-iv", "Volatility (annualised)", dates,
            [{ name: "ATM IV 30d", values: rows.map((r) => r.atm_iv_30d) },
             { name: "HV 20", values: rows.map((r) => r.hv_20) },
             { name: "HV 60", values: rows.map((r) => r.hv_60) }], pct);
  drawLines(charts, "chart-iv-rank", "IV rank and percentile (0 to 100)", dates,
            [{ name: "IV rank", values: rows.map((r) => r.iv_rank) },
             { name: "IV percentile", values: rows.map((r) => r.iv_percentile) }], plain, [0, 100]);
}

function renderIvSymbols(reply) {
  const body = document.querySelector("#iv-symbols tbody");
  body.replaceChildren();
  const list = reply.symbols || [];
  document.getElementById("iv-symbols-empty").hidden = list.length > 0;
  document.getElementById("iv-symbols").hidden = list.length === 0;
  for (const r of list) {
    const tr = document.createElement("tr");
    tr.dataset.symbol = r.symbol;
    const cell = document.createElement("td");
    const a = text("a", r.symbol);
    a.href = "#/options/" + encodeURIComponent(r.symbol);
    cell.appendChild(a);
    tr.appendChild(cell);
    tr.appendChild(text("td", r.date));
    tr.appendChild(text("td", pct(r.atm_iv_30d), "num"));
    tr.appendChild(text("td", plain(r.iv_rank), "num"));
    tr.appendChild(text("td", plain(r.iv_percentile), "num"));
    tr.appendChild(text("td", pct(r.hv_20), "num"));
    tr.appendChild(text("td", pct(r.hv_60), "num"));
    body.appendChild(tr);
  }
}

function renderScan(reply) {
  document.getElementById("scan-when").textContent = reply.generated_at
    ? "Generated " + new Date(reply.generated_at).toLocaleString() + "."
    : "No scan stored yet (a scan that finds no candidate stores nothing): run tickq enqueue " +
      "scan_opportunities after calculate_iv_analysis.";
  for (const [side, id] of [["sell_premium", "scan-sell"], ["buy_premium", "scan-buy"]]) {
    const table = document.getElementById(id);
    const head = table.querySelector("thead"), body = table.querySelector("tbody");
    head.replaceChildren();
    body.replaceChildren();
    const hr = document.createElement("tr");
    for (const [label, cls] of [["#", "num"], ["Symbol", ""], ["Score", "num"], ["ATM IV", "num"], ["IV rank", "num"],
                                ["HV 20", "num"]]) {
      const th = text("th", label, cls);
      th.scope = "col";
      hr.appendChild(th);
    }
    head.appendChild(hr);
    for (const e of reply[side] || []) {
      const tr = document.createElement("tr");
      tr.dataset.symbol = e.symbol;
      tr.appendChild(text("td", e.rank, "num"));
      tr.appendChild(text("td", e.symbol));
      tr.appendChild(text("td", fmt(e.score), "num"));
      tr.appendChild(text("td", pct(e.atm_iv_30d), "num"));
      tr.appendChild(text("td", plain(e.iv_rank), "num"));
      tr.appendChild(text("td", pct(e.hv_20), "num"));
      body.appendChild(tr);
    }
    table.hidden = (reply[side] || []).length === 0;
  }
}
