"use strict";
/* common.js — what every view uses: the API call (with the token), DOM
 * helpers, the status line and the routes by the URL's hash. (The
 * dashboard's script is these files in the order dashboard.html includes
 * them: one script, its functions shared by name.) */
const POLL_MS = 2000;
const TOKEN_KEY = "tickq.token";
const TOTALS = [["submitted", "Submitted"], ["completed", "Completed"], ["failed", "Failed", true],
                ["retried", "Retried"], ["dead", "Dead", true]];

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value === undefined || value === null ? "" : String(value);
  if (cls) el.className = cls;
  return el;
}

function num(value) {
  return typeof value === "number" ? value.toLocaleString() : "—";
}

/* An ISO time in the viewer's zone, with UTC on hover. */
function when(iso) {
  const cell = document.createElement("td");
  if (!iso) return cell;
  const d = new Date(iso);
  if (isNaN(d.getTime())) { cell.textContent = iso; return cell; }
  const time = document.createElement("time");
  time.dateTime = d.toISOString();
  time.title = d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  time.textContent = d.toLocaleString();
  cell.appendChild(time);
  return cell;
}

class AuthNeeded extends Error {}

async function api(path, method) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  let res;
  try {
    res = await fetch(path, { method: method || "GET", headers, cache: "no-store" });
  } catch (e) {
    if (token && e instanceof TypeError && /header|ISO-8859|code point/i.test(e.message)) {
      sessionStorage.removeItem(TOKEN_KEY); /* not a token a header can carry: ask again */
      throw new AuthNeeded("the token has characters a header cannot carry");
    }
    throw e;
  }
  if (res.status === 404 && method === undefined && path.startsWith("/api/tasks/")) return null;
  if (res.status === 401 || res.status === 403) throw new AuthNeeded(res.status === 403 ? "wrong token" : "token needed");
  let body;
  try { body = await res.json(); } catch (e) { throw new Error(path + ": the reply is not JSON"); }
  if (!res.ok) throw new Error(path + ": " + (body && body.error ? body.error : "HTTP " + res.status));
  return body;
}

function setStatus(message, isError) {
  const el = document.getElementById("status");
  el.textContent = message;
  el.classList.toggle("error", !!isError);
}

/* The view the hash names: [name, argument]. */
function route() {
  try {
    return routeOf(location.hash.replace(/^#/, "") || "/");
  } catch (e) { /* a malformed %-escape: the overview */
    return ["overview", null];
  }
}

function routeOf(hash) {
  if (hash.startsWith("/job/")) return ["job", decodeURIComponent(hash.slice(5))];
  if (hash.startsWith("/result/")) return ["result", decodeURIComponent(hash.slice(8))];
  if (hash === "/schedules") return ["schedules", null];
  if (hash === "/options") return ["options", null];
  if (hash.startsWith("/options/")) return ["options", decodeURIComponent(hash.slice(9))];
  if (hash === "/jobs" || hash.startsWith("/jobs?")) return ["jobs", new URLSearchParams(hash.slice(6))];
  return ["overview", null];
}
