// driver.mjs — a browser the Python tests drive (tests/integration/
// browser_harness.py): Debian's chromium through playwright-core, no
// browser download. One JSON command per stdin line, one JSON reply per
// stdout line ({"ok": true, "value": ...} or {"ok": false, "error": "..."}).
// Everything the page does wrong is collected from the start: console
// errors, uncaught exceptions, failed requests and HTTP errors (status >=
// 400), returned by the "problems" command.
//
// Commands: goto {url}; text {selector} (textContent, null when absent);
// wait_text {selector, text, timeout_ms} (until textContent includes text);
// wait_visible {selector, timeout_ms}; fill {selector, value};
// click {selector}; eval {js} (an expression's value);
// problems (and clears them); dialogs (the confirm()/alert() texts
// answered since the last call: every dialog is accepted, and said, unless
// dialog_answer {accept: false} said to dismiss them from then on);
// viewport {width, height}; screenshot {path, full_page}; press {key}
// (on the focused element); close.
import { chromium } from "playwright-core";
import readline from "node:readline";

const browser = await chromium.launch({
  executablePath: process.env.TICKQ_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage"], // root in CI has no user namespace sandbox
});
const context = await browser.newContext();
const page = await context.newPage();
let problems = [];
let dialogs = [];
let acceptDialogs = true;
page.on("dialog", async (d) => { dialogs.push(d.message()); await (acceptDialogs ? d.accept() : d.dismiss()); });
page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });
page.on("pageerror", (e) => problems.push("uncaught: " + e.message));
page.on("requestfailed", (r) => problems.push("request failed: " + r.method() + " " + r.url() + " " +
                                              (r.failure() ? r.failure().errorText : "")));
page.on("response", (r) => { if (r.status() >= 400) problems.push("HTTP " + r.status() + ": " + r.url()); });

const ops = {
  goto: async (c) => {
    // Leaving a page aborts its requests in flight: not the page's fault.
    const before = problems.length;
    await page.goto(c.url, { waitUntil: "load" });
    problems = problems.slice(0, before).concat(problems.slice(before).filter((p) => !p.includes("net::ERR_ABORTED")));
    return page.url();
  },
  text: async (c) => page.evaluate((s) => { const e = document.querySelector(s); return e ? e.textContent : null; },
                                   c.selector),
  wait_text: async (c) => {
    await page.waitForFunction(([s, t]) => { const e = document.querySelector(s); return e && e.textContent.includes(t); },
                               [c.selector, c.text], { timeout: c.timeout_ms || 10000 });
    return true;
  },
  wait_visible: async (c) => { await page.waitForSelector(c.selector, { state: "visible", timeout: c.timeout_ms || 10000 });
                               return true; },
  fill: async (c) => { await page.fill(c.selector, c.value); return true; },
  click: async (c) => { await page.click(c.selector); return true; },
  eval: async (c) => page.evaluate(c.js),
  problems: async () => { const p = problems; problems = []; return p; },
  dialogs: async () => { const d = dialogs; dialogs = []; return d; },
  dialog_answer: async (c) => { acceptDialogs = !!c.accept; return acceptDialogs; },
  viewport: async (c) => { await page.setViewportSize({ width: c.width, height: c.height }); return true; },
  press: async (c) => { await page.keyboard.press(c.key); return true; },
  screenshot: async (c) => { await page.screenshot({ path: c.path, fullPage: !!c.full_page }); return c.path; },
};

const reply = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  let cmd;
  try { cmd = JSON.parse(line); } catch (e) { reply({ ok: false, error: "not JSON: " + line }); continue; }
  if (cmd.op === "close") break;
  const fn = ops[cmd.op];
  if (!fn) { reply({ ok: false, error: "unknown op " + cmd.op }); continue; }
  try {
    const value = await fn(cmd);
    reply({ ok: true, value: value === undefined ? null : value });
  } catch (e) {
    reply({ ok: false, error: String(e && e.message ? e.message : e) });
  }
}
await browser.close();
