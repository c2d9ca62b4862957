/* app.js — the refresh loop (one view at a time, polled), the forms and
 * buttons, and the start. */

function showView(name) {
  for (const el of document.querySelectorAll("[data-view-body]")) el.hidden = el.id !== "view-" + name;
  for (const a of document.querySelectorAll("header nav a")) {
    if (a.dataset.view === (name === "job" || name === "result" ? "jobs" : name)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

let timer = null;
let generation = 0; /* a reply to an older refresh (the view changed meanwhile) draws nothing */

class Stale extends Error {}

async function refresh() {
  clearTimeout(timer);
  const mine = ++generation;
  const [view, arg] = route();
  showView(view);
  const fetched = async (promise) => {
    const v = await promise;
    if (mine !== generation) throw new Stale();
    return v;
  };
  try {
    if (view === "overview") {
      const [stats, workers, hour] = await fetched(Promise.all([api("/api/queues"), api("/api/workers"),
                                                                api("/api/overview/history")]));
      renderHour(hour);
      renderTotals(stats);
      renderQueues(stats);
      renderWorkers(workers);
    } else if (view === "jobs") {
      const query = new URLSearchParams();
      for (const key of ["state", "queue", "type"]) if (arg.get(key)) query.set(key, arg.get(key));
      document.getElementById("f-state").value = arg.get("state") || "";
      if (document.activeElement !== document.getElementById("f-queue"))
        document.getElementById("f-queue").value = arg.get("queue") || "";
      if (document.activeElement !== document.getElementById("f-type"))
        document.getElementById("f-type").value = arg.get("type") || "";
      const page = jobsPage(arg);
      query.set("limit", JOBS_PAGE);
      if (page > 1) query.set("offset", (page - 1) * JOBS_PAGE);
      renderJobs(await fetched(api("/api/tasks?" + query)), page);
    } else if (view === "options") {
      const calls = [api("/api/options"), api("/api/opportunities")];
      if (arg) calls.push(api("/api/iv/" + encodeURIComponent(arg)));
      const [symbols, scan, iv] = await fetched(Promise.all(calls));
      renderIvSymbols(symbols);
      renderScan(scan);
      if (arg) renderIv(arg, iv); else document.getElementById("iv-section").hidden = true;
    } else if (view === "schedules") {
      const [list, calendar] = await fetched(Promise.all([api("/api/schedules"), api("/api/calendar?days=60")]));
      renderSchedules(list, calendar);
    } else if (view === "job") {
      renderJob(arg, await fetched(api("/api/tasks/" + encodeURIComponent(arg))));
    } else if (shownResult !== arg) {
      renderResult(arg, await fetched(api("/api/tasks/" + encodeURIComponent(arg))));
    }
    document.getElementById("token-section").hidden = true;
    setStatus("updated " + new Date().toLocaleTimeString());
  } catch (e) {
    if (e instanceof Stale) return; /* the newer refresh draws, and polls */
    if (e instanceof AuthNeeded) {
      document.getElementById("token-section").hidden = false;
      setStatus("this server needs its API token: " + e.message, true);
      document.getElementById("token-input").focus();
      return; /* polling resumes once a token is given */
    }
    setStatus("cannot reach the server: " + e.message, true);
  }
  timer = setTimeout(refresh, POLL_MS);
}

document.getElementById("jobs-filter").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const query = new URLSearchParams();
  for (const key of ["state", "queue", "type"]) {
    const v = document.getElementById("f-" + key).value.trim();
    if (v) query.set(key, v);
  }
  location.hash = "/jobs" + (query.toString() ? "?" + query : "");
});

document.getElementById("job-find").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const id = document.getElementById("f-id").value.trim();
  if (id) location.hash = "/job/" + encodeURIComponent(id);
});

/* Another page of the same listing. */
function jobsPageGo(delta) {
  const arg = route()[1];
  const page = jobsPage(arg) + delta;
  if (page > 1) arg.set("page", page); else arg.delete("page");
  location.hash = "/jobs" + (arg.toString() ? "?" + arg : "");
}
document.getElementById("jobs-prev").addEventListener("click", () => jobsPageGo(-1));
document.getElementById("jobs-next").addEventListener("click", () => jobsPageGo(1));

document.getElementById("job-retry").addEventListener("click", () => {
  const id = route()[1];
  act("Run job " + id + " again?", "POST", "/api/retry/" + encodeURIComponent(id));
});

document.getElementById("job-cancel").addEventListener("click", () => {
  const id = route()[1];
  act("Cancel job " + id + "?", "DELETE", "/api/tasks/" + encodeURIComponent(id));
});

document.getElementById("job-delete").addEventListener("click", () => {
  const id = route()[1];
  act("Delete job " + id + "? Its record and result leave Redis for good.", "POST",
      "/api/delete/" + encodeURIComponent(id));
});

window.addEventListener("hashchange", () => {
  document.getElementById("job-message").textContent = "";
  refresh();
});

document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = document.getElementById("token-input");
  if (!/^[\x21-\x7e]+$/.test(input.value.trim())) {
    setStatus("a token is printable ASCII without spaces (TICKQ_API_TOKEN)", true);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = "";
  refresh();
});

refresh();
