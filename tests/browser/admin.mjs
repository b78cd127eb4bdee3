// The admin pages in a real browser: headless Chromium driven by playwright-core, axe-core for
// accessibility. Started by tests/browser.rs against the real binary with a fresh data
// directory and one all-sites admin who has a password:
//
//   CHORUS_ADMIN_TOKEN=... CHORUS_ADMIN_PASSWORD=... node tests/browser/admin.mjs BASE_URL
//
// It first sends the demo site a realistic day through the API (tests/fixtures/demo-seed:
// every response through the public API, the follow-ups worked with outcomes through the staff
// API), then signs in as the admin and checks the dashboard, responses, follow-ups, rules and
// audit pages: no WCAG 2.1 A/AA violation (axe-core), no sideways scrolling of the page at 390 px
// (wide tables scroll in their own box), chart text at 12 px or more, and the dashboard's
// sentences. Set CHORUS_SCREENSHOTS=DIR to save the dashboard on a phone and a desktop.
// Prints one line per test and "N passed, N failed"; exits 1 on any failure.

import { assertAccessible, finish, launchBrowser, pagesWithAndWithoutScript, runTests } from "./common.mjs";
import { readFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { strict as assert } from "node:assert";

const here = path.dirname(fileURLToPath(import.meta.url));
const base = process.argv[2];
const token = process.env.CHORUS_ADMIN_TOKEN;
const password = process.env.CHORUS_ADMIN_PASSWORD;
if (!base || !token || !password) {
  console.error("usage: CHORUS_ADMIN_TOKEN=.. CHORUS_ADMIN_PASSWORD=.. node tests/browser/admin.mjs BASE_URL");
  process.exit(2);
}
const seed = JSON.parse(readFileSync(path.join(here, "..", "fixtures", "demo-seed", "seed.json"), "utf8"));
const site = "demo-clinic";
const PHONE = { width: 390, height: 844 };

// ---------------------------------------------------------------- helpers

async function api(method, url, body, auth = true) {
  const res = await fetch(base + url, {
    method,
    headers: {
      ...(auth ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The seed, as tests/common/demo_seed.rs sends it to the app in-process. */
async function sendSeed() {
  for (const group of seed.responses) {
    for (let i = 0; i < group.count; i++) {
      await api("POST", `/api/v1/sites/${site}/surveys/${group.survey}/responses`, { answers: group.answers }, false);
    }
  }
  for (const queue of seed.follow_ups) {
    const listed = await api("GET", `/api/v1/sites/${site}/follow-ups?queue=${queue.queue}&status=open&limit=1000`);
    // Oldest first, as the Rust seed works them.
    const ids = listed.follow_ups.map((t) => t.id).sort();
    const url = (id) => `/api/v1/sites/${site}/follow-ups/${id}`;
    for (const [outcome, n] of queue.done) {
      for (let i = 0; i < n; i++) {
        const id = ids.shift();
        await api("POST", url(id), { status: "claimed" });
        await api("POST", url(id), { status: "done", outcome });
      }
    }
    for (const reason of queue.dismissed) {
      await api("POST", url(ids.shift()), { status: "dismissed", reason });
    }
  }
}

async function signIn(page) {
  await page.goto(`${base}/admin/login`);
  await page.fill("#name", "admin");
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(/\/admin\/sites\//), page.click("button[type=submit]")]);
}

/** At 390 px the page itself never scrolls sideways, and every SVG text renders at 12 px or
 *  more (its font size times the chart's scale on screen). */
async function assertPhoneFits(page, what) {
  const viewport = page.viewportSize();
  await page.setViewportSize(PHONE);
  const r = await page.evaluate(() => {
    const se = document.scrollingElement;
    const small = [];
    for (const t of document.querySelectorAll("svg text")) {
      const px = parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a;
      if (px < 12) small.push(`"${t.textContent.slice(0, 30)}" ${px.toFixed(1)}px`);
    }
    // A box that scrolls on its own must be reachable by keyboard (axe checks it too).
    const scrollers = [...document.querySelectorAll(".table-scroll")].filter((d) => d.scrollWidth > d.clientWidth);
    // What sticks out, for the failure message: the outermost elements wider than the page.
    const wide = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > se.clientWidth + 1)
      .filter((el) => !(el.parentElement.getBoundingClientRect().right > se.clientWidth + 1))
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`)
      .slice(0, 5);
    return {
      wide,
      scrollWidth: se.scrollWidth,
      clientWidth: se.clientWidth,
      small,
      texts: document.querySelectorAll("svg text").length,
      scrollers: scrollers.map((d) => d.getAttribute("tabindex")),
    };
  });
  await page.setViewportSize(viewport);
  assert.ok(
    r.scrollWidth <= r.clientWidth,
    `${what} scrolls sideways at 390px: ${r.scrollWidth} > ${r.clientWidth} (${r.wide.join(", ")})`,
  );
  assert.deepEqual(r.small, [], `${what}: chart text under 12px at 390px`);
  assert.ok(r.scrollers.every((t) => t === "0"), `${what}: a scrolling box without tabindex`);
  return r;
}

// ---------------------------------------------------------------- tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("dashboard: the study's disagreements in words, phone-sized, accessible", async ({ page }) => {
  await signIn(page);
  await page.goto(`${base}/admin/sites/${site}`);
  const evident = await page.$$eval("#evident li", (li) => li.map((l) => l.textContent));
  assert.match(evident[0], /^83% of leadership respondents name “Did not know about the portal”, against 25% of patient respondents/);
  assert.match(evident[1], /^54% of patient respondents name “Glitches, errors or lock-outs while enrolling”, against 8% of leadership respondents/);
  assert.ok((await page.$$eval("#too-few li", (li) => li.length)) >= 1);
  assert.match(await page.textContent("#unprompted"), /without being asked/);
  assert.match(await page.textContent("#follow-up-figures"), /Of 16 patients who asked for a call back, 12 were done/);
  assert.equal(await page.locator("svg.line-chart").count(), 3);
  await assertAccessible(page, "dashboard");
  const phone = await assertPhoneFits(page, "dashboard");
  assert.ok(phone.texts > 50, `chart texts measured: ${phone.texts}`);
  // The same at 390 px for axe (reflow can bring out contrast or overlap problems).
  await page.setViewportSize(PHONE);
  await assertAccessible(page, "dashboard at 390px");
});

for (const [name, url] of [
  ["responses", `/admin/sites/${site}/responses`],
  ["follow-ups", `/admin/sites/${site}/follow-ups?status=all`],
  ["rules", `/admin/sites/${site}/rules`],
  ["rule editor", `/admin/sites/${site}/rules/files/parking.rhai`],
  ["audit", `/admin/sites/${site}/audit`],
  ["every site's audit", `/admin/audit`],
]) {
  test(`${name} page: accessible, no sideways scrolling at 390px`, async ({ page }) => {
    await signIn(page);
    const res = await page.goto(base + url);
    assert.equal(res.status(), 200);
    await assertAccessible(page, `${name} page`);
    await assertPhoneFits(page, `${name} page`);
    await page.setViewportSize(PHONE);
    await assertAccessible(page, `${name} page at 390px`);
  });
}

test("rule editor: Check shows a problem at its line and applies nothing, with and without JavaScript", async ({ page, noScriptPage }) => {
  const url = `${base}/admin/sites/${site}/rules/files/parking.rhai`;
  const broken = "fn tag(response) {\n    let x = 1;\n    [\"parking\"\n}\n";
  for (const [p, what] of [[noScriptPage, "without JavaScript"], [page, "with JavaScript"]]) {
    await signIn(p);
    await p.goto(url);
    const original = await p.inputValue("#text");
    await p.fill("#text", broken);
    await Promise.all([p.waitForURL(/\/check$/), p.click("button:text('Check')")]);
    assert.match(await p.textContent("[role=alert]"), /line 4, column 1/, what);
    assert.equal(await p.locator(".editor li.bad").count(), 1, what);
    assert.equal((await p.textContent(".editor li.bad")).trim(), "4", what);
    if (p === page) await assertAccessible(page, "rule editor showing a problem");
    await p.goto(url);
    assert.equal(await p.inputValue("#text"), original, `${what}: nothing was applied`);
  }
});

test("follow-ups page: done asks for the outcome", async ({ page }) => {
  await signIn(page);
  await page.goto(`${base}/admin/sites/${site}/follow-ups?queue=enrollment-help&status=open`);
  const claim = page.locator("form:has(input[name=status][value=claimed]) button").first();
  await Promise.all([page.waitForURL(/follow-ups/), claim.click()]);
  await page.goto(`${base}/admin/sites/${site}/follow-ups?queue=enrollment-help&status=claimed`);
  const form = page.locator("form.finish").first();
  const select = form.locator("select[name=outcome]");
  assert.equal(await select.getAttribute("required"), "");
  assert.deepEqual(await select.locator("option").allTextContents(), ["Choose…", "enrolled", "not reached", "declined"]);
  await select.selectOption("enrolled");
  await Promise.all([page.waitForURL(/follow-ups/), form.locator("button").click()]);
  const done = await api("GET", `/api/v1/sites/${site}/follow-ups?queue=enrollment-help&status=done&limit=1000`);
  assert.equal(done.follow_ups.filter((t) => t.outcome === "enrolled").length, 8);
});

// ---------------------------------------------------------------- screenshots

async function screenshots(browser, dir) {
  mkdirSync(dir, { recursive: true });
  for (const s of [
    { file: "dashboard-phone.png", width: 390, height: 844, full: false },
    { file: "dashboard-phone-full.png", width: 390, height: 844, full: true },
    { file: "dashboard-desktop.png", width: 1280, height: 900, full: true },
  ]) {
    const ctx = await browser.newContext({ viewport: { width: s.width, height: s.height }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    await signIn(page);
    await page.goto(`${base}/admin/sites/${site}`);
    await page.screenshot({ path: path.join(dir, s.file), fullPage: s.full });
    await ctx.close();
  }
  // The rule editor after "Check" found a problem: the message, and the line marked.
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  await signIn(page);
  await page.goto(`${base}/admin/sites/${site}/rules/files/parking.rhai`);
  const text = await page.inputValue("#text");
  await page.fill("#text", text.replace("has_any_word(response.answers.comments, DESK_KEYWORDS)", "has_any_word(response.answers.comments DESK_KEYWORDS)"));
  await Promise.all([page.waitForURL(/\/check$/), page.click("button:text('Check')")]);
  await page.screenshot({ path: path.join(dir, "rule-editor-check.png"), fullPage: true });
  await ctx.close();
  console.log(`screenshots saved in ${dir}`);
}

// ---------------------------------------------------------------- runner

const browser = await launchBrowser();
let result = { passed: 0, failed: 0 };
try {
  await sendSeed();
  console.log("ok - the demo seed sent through the API");
  // Before the tests, which work one more task.
  if (process.env.CHORUS_SCREENSHOTS) await screenshots(browser, process.env.CHORUS_SCREENSHOTS);
  result = await runTests(browser, tests, pagesWithAndWithoutScript);
} finally {
  await browser.close();
}
finish(result);
