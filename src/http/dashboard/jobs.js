/* jobs.js — the job list (filters, pages) and one job's view with its Retry,
 * Cancel and Delete buttons. */

const STATE_CLASS = (state) => "state-" + String(state || "").replace(/[^a-z]/g, "");

const JOBS_PAGE = 50;
const JOBS_PAGES = 10000 / JOBS_PAGE + 1; /* the API's offset goes to 10,000 */

/* The jobs view's page number (1 to JOBS_PAGES), from its address. */
function jobsPage(arg) {
  const page = Number(arg.get("page") || "1");
  return Number.isInteger(page) && page >= 1 ? Math.min(page, JOBS_PAGES) : 1;
}

function renderJobs(reply, page) {
  const body = document.querySelector("#jobs tbody");
  body.replaceChildren();
  const jobs = reply.jobs || [];
  document.getElementById("jobs-empty").hidden = jobs.length > 0;
  document.getElementById("jobs").hidden = jobs.length === 0;
  const first = (page - 1) * JOBS_PAGE;
  document.getElementById("jobs-pager").hidden = page === 1 && !reply.more;
  document.getElementById("jobs-prev").disabled = page === 1;
  document.getElementById("jobs-next").disabled = !reply.more || page >= JOBS_PAGES;
  document.getElementById("jobs-range").textContent = jobs.length > 0
    ? "jobs " + (first + 1) + "–" + (first + jobs.length) + (reply.more ? "" : " (the last)")
    : "no jobs on page " + page;
  for (const j of jobs) {
    const tr = document.createElement("tr");
    tr.dataset.job = j.id;
    const idCell = document.createElement("td");
    const link = text("a", j.id);
    link.href = "#/job/" + encodeURIComponent(j.id);
    idCell.appendChild(link);
    tr.appendChild(idCell);
    tr.appendChild(text("td", j.type));
    tr.appendChild(text("td", j.queue));
    tr.appendChild(text("td", j.state, STATE_CLASS(j.state)));
    tr.appendChild(text("td", num(j.attempts), "num"));
    tr.appendChild(text("td", typeof j.age_s === "number" ? age(j.age_s) : "", "num"));
    tr.appendChild(text("td", j.error || "", "error"));
    body.appendChild(tr);
  }
}

function age(seconds) {
  if (seconds < 60) return seconds.toFixed(1) + " s";
  if (seconds < 3600) return (seconds / 60).toFixed(1) + " min";
  if (seconds < 86400) return (seconds / 3600).toFixed(1) + " h";
  return (seconds / 86400).toFixed(1) + " d";
}

const CANCELLABLE = new Set(["queued", "running", "delayed", "retrying", "deferred", "held"]);
const FINISHED = new Set(["completed", "failed", "dead", "cancelled"]);
let deleted = null; /* {id, state} of the job this page deleted last: its page says so */
const JOB_FIELDS = [["type", "Type"], ["state", "State"], ["queue", "Queue"], ["priority", "Priority"],
                    ["attempts", "Attempts"], ["max_retries", "Max retries"], ["run", "Run"],
                    ["worker", "Worker"], ["progress", "Progress"], ["progress_message", "Progress message"],
                    ["error", "Error"]];
const JOB_TIMES = [["created_at", "Created"], ["started_at", "Started"], ["finished_at", "Finished"]];

function renderJob(id, job) {
  document.getElementById("job-id").textContent = id;
  const missing = document.getElementById("job-missing");
  missing.hidden = job !== null;
  missing.textContent = deleted && deleted.id === id
    ? "Job deleted (it was " + deleted.state + "). Its runs stay in the job history (tickq jobs --since)."
    : "No such job (unknown id, or its record expired).";
  document.getElementById("job-body").hidden = job === null;
  if (job === null) return;
  const dl = document.getElementById("job-fields");
  dl.replaceChildren();
  for (const [key, label] of JOB_FIELDS) {
    if (job[key] === undefined || job[key] === null || job[key] === "") continue;
    dl.appendChild(text("dt", label));
    const dd = text("dd", job[key], key === "state" ? STATE_CLASS(job[key]) : "");
    dd.dataset.field = key;
    dl.appendChild(dd);
  }
  for (const [key, label] of JOB_TIMES) {
    if (!job[key]) continue;
    dl.appendChild(text("dt", label));
    const cell = when(job[key]);
    const dd = document.createElement("dd");
    dd.dataset.field = key;
    dd.replaceChildren(...cell.childNodes);
    dl.appendChild(dd);
  }
  document.getElementById("job-args").textContent = JSON.stringify(job.args, null, 2);
  document.getElementById("job-result").textContent = job.result ? JSON.stringify(job.result, null, 2) : "none yet";
  const body = document.querySelector("#job-retries tbody");
  body.replaceChildren();
  const retries = job.retries || [];
  document.getElementById("job-retries-empty").hidden = retries.length > 0;
  document.getElementById("job-retries").hidden = retries.length === 0;
  for (const r of retries) {
    const tr = document.createElement("tr");
    tr.appendChild(text("td", r.attempt, "num"));
    tr.appendChild(text("td", r.kind));
    tr.appendChild(when(r.at || r.failed_at));
    tr.appendChild(text("td", r.error, "error"));
    body.appendChild(tr);
  }
  const drawn = RESULT_TYPES.has(job.type) && job.state === "completed";
  document.getElementById("job-result-link").hidden = !drawn;
  if (drawn) document.querySelector("#job-result-link a").href = "#/result/" + encodeURIComponent(id);
  document.getElementById("job-retry").hidden = !(job.state === "failed" || job.state === "dead");
  document.getElementById("job-cancel").hidden = !CANCELLABLE.has(job.state) || job.cancel_requested === true;
  document.getElementById("job-delete").hidden = !FINISHED.has(job.state);
}

/* A button's call: asks first, then says what happened. */
async function act(question, method, path) {
  const message = document.getElementById("job-message");
  if (!window.confirm(question)) return;
  try {
    const reply = await api(path, method);
    if (reply && reply.deleted === true) deleted = { id: reply.id, state: reply.state };
    message.textContent = reply && reply.state ? "done: " + reply.state : "done";
    message.className = "";
  } catch (e) {
    message.textContent = e instanceof AuthNeeded ? "refused: " + e.message : e.message;
    message.className = "state-failed";
  }
  refresh();
}
