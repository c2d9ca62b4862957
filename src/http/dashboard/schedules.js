/* schedules.js — the schedules and the market calendar. */

function renderSchedules(reply, calendar) {
  const body = document.querySelector("#schedules tbody");
  body.replaceChildren();
  const list = reply.schedules || [];
  const empty = document.getElementById("schedules-empty");
  empty.hidden = list.length > 0;
  document.getElementById("schedules").hidden = list.length === 0;
  empty.textContent = reply.config
    ? "No schedules in " + reply.config + "."
    : "No schedules: this server read no configuration file (start it with --config FILE; docs/scheduler.md).";
  for (const sc of list) {
    const tr = document.createElement("tr");
    tr.dataset.schedule = sc.name;
    tr.appendChild(text("td", sc.name));
    tr.appendChild(text("td", sc.after ? "after " + sc.after : sc.cron + " (" + sc.timezone + ")", "wrap"));
    tr.appendChild(text("td", sc.task + " → " + sc.queue + (sc.priority !== "normal" ? " (" + sc.priority + ")" : "")));
    const next = document.createElement("td");
    next.dataset.field = "next";
    (sc.next || []).forEach((n, i) => {
      if (i) next.appendChild(document.createElement("br"));
      /* "2026-12-07T09:30:00-05:00" shown as "2026-12-07 09:30 -05:00" */
      const t = text("time", n.local.replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d/, "$1 $2 "));
      t.dateTime = n.utc;
      t.title = n.utc.replace("T", " ").replace("Z", " UTC");
      next.appendChild(t);
    });
    tr.appendChild(next);
    const last = document.createElement("td");
    last.dataset.field = "last";
    if (sc.last_fire) {
      const a = text("a", new Date(sc.last_fire).toLocaleString());
      a.title = sc.last_fire.replace("T", " ").replace("Z", " UTC") + ": job " + sc.last_job;
      a.href = "#/job/" + encodeURIComponent(sc.last_job);
      last.appendChild(a);
    } else {
      last.textContent = "never";
    }
    tr.appendChild(last);
    tr.appendChild(text("td", num(sc.fires), "num"));
    tr.appendChild(text("td", num(sc.misfires), "num" + (sc.misfires > 0 ? " state-failed" : "")));
    body.appendChild(tr);
  }
  const days = calendar.closures_and_early_closes || [];
  const cbody = document.querySelector("#calendar tbody");
  cbody.replaceChildren();
  document.getElementById("calendar-empty").hidden = days.length > 0;
  document.getElementById("calendar").hidden = days.length === 0;
  for (const d of days) {
    const tr = document.createElement("tr");
    tr.dataset.date = d.date;
    tr.appendChild(text("td", d.date));
    tr.appendChild(text("td", d.weekday));
    tr.appendChild(text("td", d.kind.replace("_", " ")));
    tr.appendChild(text("td", d.name || "closes at " + d.close + " New York time"));
    cbody.appendChild(tr);
  }
  document.getElementById("calendar-summary").textContent =
    calendar.calendar + ", " + calendar.from + " to " + calendar.to + ": the market is " +
    (calendar.open_now ? "open" : "closed") + " now (New York " + (calendar.now || "") + "); next trading day " +
    (calendar.next_trading_day || "none") + ".";
}
