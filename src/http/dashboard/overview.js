/* overview.js — the Overview: totals, queues, workers and the last hour's
 * charts. */

function renderTotals(stats) {
  const box = document.getElementById("totals");
  box.replaceChildren();
  const total = (stats.counters && stats.counters.total) || {};
  const tiles = TOTALS.map(([key, label, bad]) => [label, total[key], bad && total[key] > 0]);
  if (typeof stats.dead_letter === "number") tiles.push(["Dead letters", stats.dead_letter, stats.dead_letter > 0]);
  for (const [label, value, bad] of tiles) {
    const tile = text("div", "", "tile" + (bad ? " bad" : ""));
    tile.appendChild(text("div", label, "label"));
    tile.appendChild(text("div", num(value), "value"));
    tile.dataset.total = label.toLowerCase();
    box.appendChild(tile);
  }
}

function renderQueues(stats) {
  const body = document.querySelector("#queues tbody");
  body.replaceChildren();
  const queues = stats.queues || [];
  document.getElementById("queues-empty").hidden = queues.length > 0;
  document.getElementById("queues").hidden = queues.length === 0;
  for (const q of queues) {
    const tr = document.createElement("tr");
    tr.dataset.queue = q.name;
    const name = text("td", q.queue);
    if (q.paused) name.appendChild(text("span", "paused", "badge paused"));
    if (q.unserved) name.appendChild(text("span", "no worker", "badge unserved"));
    tr.appendChild(name);
    tr.appendChild(text("td", q.priority));
    for (const key of ["ready", "running", "delayed", "retrying", "deferred", "served"]) {
      const td = text("td", num(q[key]), "num");
      td.dataset.field = key;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

function renderWorkers(reply) {
  const body = document.querySelector("#workers tbody");
  body.replaceChildren();
  const workers = reply.workers || [];
  document.getElementById("workers-empty").hidden = workers.length > 0;
  document.getElementById("workers").hidden = workers.length === 0;
  for (const w of workers) {
    const tr = document.createElement("tr");
    tr.dataset.worker = w.id;
    tr.appendChild(text("td", w.id));
    tr.appendChild(text("td", w.host));
    tr.appendChild(text("td", w.pid, "num"));
    tr.appendChild(text("td", (Array.isArray(w.queues) ? w.queues : String(w.queues).split(",")).join(", "), "wrap"));
    for (const key of ["workers", "busy", "completed", "failed"]) tr.appendChild(text("td", num(w[key]), "num"));
    tr.appendChild(when(w.started_at));
    const beat = text("td", w.heartbeat_at ? age(Math.max(0, (Date.now() - Date.parse(w.heartbeat_at)) / 1000)) + " ago" : "—",
                      "num");
    beat.dataset.field = "heartbeat";
    tr.appendChild(beat);
    body.appendChild(tr);
    /* its children: busy with which job (and for how long), or idle */
    const kids = document.createElement("tr");
    kids.className = "children";
    kids.dataset.children = w.id;
    const cell = document.createElement("td");
    cell.colSpan = 10;
    const list = document.createElement("ul");
    for (const c of w.children || []) {
      const li = document.createElement("li");
      li.dataset.child = c.id;
      li.dataset.busy = c.busy ? "1" : "0";
      li.appendChild(text("span", c.id + " (pid " + c.pid + "): "));
      if (c.busy && c.job) {
        const a = text("a", c.job.id);
        a.href = "#/job/" + encodeURIComponent(c.job.id);
        li.appendChild(text("span", "busy with "));
        li.appendChild(a);
        li.appendChild(text("span", " (" + c.job.type + " on " + c.job.queue + ", for " +
                                    age(Math.max(0, (Date.now() - Date.parse(c.job.started_at)) / 1000)) + ")"));
      } else {
        li.appendChild(text("span", "idle"));
      }
      list.appendChild(li);
    }
    cell.appendChild(list);
    kids.appendChild(cell);
    body.appendChild(kids);
  }
}

/* Per-minute rates between consecutive samples (null across a gap or a
   counter reset) and the queue latency, from the server's samples. */
function renderHour(reply) {
  const samples = reply.samples || [];
  const charts = document.getElementById("hour-charts");
  charts.replaceChildren();
  document.getElementById("hour-empty").hidden = samples.length >= 2;
  if (samples.length < 2) return;
  const steps = samples.slice(1).map((b, i) => b.t - samples[i].t).sort((x, y) => x - y);
  const step = steps[Math.floor(steps.length / 2)];
  const rate = (key) => samples.map((b, i) => {
    if (i === 0) return null;
    const a = samples[i - 1], dt = b.t - a.t, d = b[key] - a[key];
    return dt > 1.5 * step || d < 0 ? null : d / (dt / 60000);
  });
  const labels = samples.map((x) => new Date(x.t).toLocaleTimeString());
  drawLines(charts, "chart-throughput", "Throughput (jobs per minute)", labels,
            [{ name: "completed", values: rate("completed") }, { name: "failed", values: rate("failed") },
             { name: "submitted", values: rate("submitted") }], (v) => tick(v));
  drawLines(charts, "chart-latency", "Queue latency (age of the oldest ready job, seconds)", labels,
            [{ name: "latency", values: samples.map((x) => x.latency_s) }], (v) => tick(v));
}
