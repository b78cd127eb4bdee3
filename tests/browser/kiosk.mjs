// The waiting-room kiosk in a real browser: headless Chromium driven by playwright-core, with
// axe-core for accessibility. Started by tests/browser.rs against the real binary:
//
//   node tests/browser/kiosk.mjs BASE_URL DATA_DIR
//
// Each test registers a kiosk through the API (DATA_DIR holds the initial admin token) and
// enrols a fresh browser context with its link, as staff do on a tablet. Set
// CHORUS_SCREENSHOTS=DIR to also save the start screen and the idle warning on a tablet.
// Prints one line per test and "N passed, N failed"; exits 1 on any failure.

import { readFileSync } from "node:fs";
import path from "node:path";
import { strict as assert } from "node:assert";
import { apiClient, assertAccessible, assertFits, runScript } from "./common.mjs";

const base = process.argv[2];
const dataDir = process.argv[3];
if (!base || !dataDir) {
  console.error("usage: node tests/browser/kiosk.mjs BASE_URL DATA_DIR");
  process.exit(2);
}
const adminToken = readFileSync(path.join(dataDir, "initial-admin-token"), "utf8").trim();
const site = "demo-clinic";
const survey = "patient-enrollment";
const start = `${base}/s/${site}/${survey}/kiosk`;
const WIDTHS = [390, 1024];

const api = apiClient(base, adminToken);

async function kioskResponses(kioskId) {
  const list = await api("GET", `/api/v1/sites/${site}/responses?survey=${survey}&limit=1000`);
  return list.responses.filter((r) => r.channel === "kiosk" && r.kiosk === kioskId);
}

/** Registers a kiosk and enrols the page's browser context with its link. */
async function enrol(page, settings = {}) {
  const kiosk = await api("POST", `/api/v1/sites/${site}/kiosks`, {
    name: "Front desk",
    survey,
    ...settings,
  });
  await page.goto(kiosk.enrolment_url);
  await page.getByRole("button", { name: "Set up this tablet" }).click();
  await page.waitForURL(start);
  return kiosk;
}

/** axe-core finds no WCAG 2.1 A/AA violation, and every target is 44 px high, at each width.
 * `exempt` names axe rules not run on this screen, each for a reason given where it is used. */
async function assertKioskScreen(page, what, exempt = []) {
  const viewport = page.viewportSize();
  for (const width of WIDTHS) {
    const height = width === 390 ? 844 : 768;
    await page.setViewportSize({ width, height });
    await assertAccessible(page, `${what} at ${width}px`, exempt);
    await assertFits(page, what, width, height);
  }
  await page.setViewportSize(viewport);
}

/** What of a respondent the page shows: checked choices and typed text. */
async function answersShown(page) {
  return page.evaluate(() => {
    const shown = [];
    for (const el of document.querySelectorAll("input, textarea")) {
      if (el.type === "hidden") continue;
      if ((el.type === "radio" || el.type === "checkbox") && el.checked) shown.push(el.name);
      else if (el.type !== "radio" && el.type !== "checkbox" && el.value) shown.push(el.name);
    }
    return shown;
  });
}

async function storageIsEmpty(page) {
  return page.evaluate(() => localStorage.length === 0 && sessionStorage.length === 0);
}

async function answerAndSend(page, comment) {
  await page.check('input[name="aware"][value="yes"]');
  await page.check('input[name="tried"][value="no"]');
  await page.check('input[name="contact_ok"][value="no"]');
  await page.fill('[name="comments"]', comment);
  // The caller waits for what follows (the thank-you page changes its address at once).
  await page.getByRole("button", { name: "Send" }).click();
}

const tests = [];
function test(name, fn) {
  tests.push({ name, fn });
}

test("a kiosk session submits and returns to a fresh start by itself", async ({ page }) => {
  const kiosk = await enrol(page, { return_delay_s: 5 });
  await page.getByRole("link", { name: "Start" }).click();
  const firstId = await page.inputValue('input[name="_submission_id"]');
  await answerAndSend(page, "First patient's words");
  await page.getByRole("heading", { name: "Thank you" }).waitFor();
  await page.getByText("goes back to the start in 5 seconds").waitFor();
  // Back to the start by itself within the delay (polled, not slept).
  await page.locator("#kiosk-start").waitFor({ timeout: 15000 });
  assert.equal(page.url(), start);
  const stored = await kioskResponses(kiosk.id);
  assert.equal(stored.length, 1);
  assert.equal(stored[0].answers.comments, "First patient's words");
  // The next person gets a new form: empty, with a new submission id.
  await page.getByRole("link", { name: "Start" }).click();
  assert.deepEqual(await answersShown(page), []);
  assert.notEqual(await page.inputValue('input[name="_submission_id"]'), firstId);
  assert.ok(await storageIsEmpty(page), "nothing in localStorage or sessionStorage");
});

test("Back after a submission lands on the start screen, never on the answers", async ({ page }) => {
  await enrol(page, { return_delay_s: 30 });
  await page.getByRole("link", { name: "Start" }).click();
  await answerAndSend(page, "Private words");
  await page.getByRole("heading", { name: "Thank you" }).waitFor();
  // Straight from the thank-you page, and again after it returned to the start.
  await page.goBack();
  await page.locator("#kiosk-start").waitFor();
  assert.deepEqual(await answersShown(page), []);
  assert.ok(!(await page.content()).includes("Private words"));
  assert.ok(await storageIsEmpty(page), "nothing in localStorage or sessionStorage");
  for (let i = 0; i < 3; i++) {
    await page.goBack().catch(() => {});
    assert.deepEqual(await answersShown(page), [], `back ${i + 2}`);
    assert.ok(!(await page.content()).includes("Private words"));
  }
});

test("an idle form warns, Continue keeps it, then it resets and discards the typed text", async ({ page }) => {
  await page.clock.install();
  await enrol(page, { idle_s: 60 });
  await page.getByRole("link", { name: "Start" }).click();
  await page.fill('[name="comments"]', "Half-typed words");
  const warning = page.getByRole("alertdialog", { name: "Are you still there?" });
  assert.ok(await warning.isHidden());
  await page.clock.fastForward(61_000);
  await warning.waitFor();
  await page.getByText("this form will be cleared in").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), "kiosk-continue");
  await assertKioskScreen(page, "the idle warning");
  await page.getByRole("button", { name: "Continue" }).click();
  await warning.waitFor({ state: "hidden" });
  assert.equal(await page.inputValue('[name="comments"]'), "Half-typed words");
  // Untouched again: warning, then the start screen, and the words are gone.
  await page.clock.fastForward(61_000);
  await warning.waitFor();
  await page.clock.fastForward(31_000);
  await page.locator("#kiosk-start").waitFor();
  assert.equal(page.url(), start);
  await page.goBack().catch(() => {});
  assert.ok(!(await page.content()).includes("Half-typed words"));
  await page.goto(`${start}/form`);
  assert.deepEqual(await answersShown(page), []);
});

test("without JavaScript a kiosk submits, returns to the start, and Back shows no answers", async ({ noScriptPage: page }) => {
  const kiosk = await enrol(page, { return_delay_s: 5 });
  await page.getByRole("link", { name: "Start" }).click();
  await answerAndSend(page, "Words without a script");
  await page.getByRole("heading", { name: "Thank you" }).waitFor();
  await page.locator("#kiosk-start").waitFor({ timeout: 15000 });
  assert.equal((await kioskResponses(kiosk.id)).length, 1);
  for (let i = 0; i < 3; i++) {
    await page.goBack().catch(() => {});
    assert.deepEqual(await answersShown(page), [], `back ${i + 1}`);
    assert.ok(!(await page.content()).includes("Words without a script"));
  }
});

test("every kiosk screen passes axe-core (WCAG 2.1 AA) with 44 px targets at 390 and 1024 px", async ({ page }) => {
  const kiosk = await api("POST", `/api/v1/sites/${site}/kiosks`, { name: "Axe", survey, return_delay_s: 60 });
  await page.goto(kiosk.enrolment_url);
  await assertKioskScreen(page, "the enrolment page");
  await page.getByRole("button", { name: "Set up this tablet" }).click();
  await page.waitForURL(start);
  await assertKioskScreen(page, "the start screen");
  // Larger text is a real button that says whether it is on.
  const larger = page.getByRole("button", { name: "Larger text" });
  assert.equal(await larger.getAttribute("aria-pressed"), "false");
  await larger.click();
  await page.waitForURL(`${start}?text=large`);
  assert.equal(await page.getByRole("button", { name: "Larger text" }).getAttribute("aria-pressed"), "true");
  await assertKioskScreen(page, "the start screen with larger text");
  await page.getByRole("link", { name: "Español" }).click();
  await page.getByRole("link", { name: "Empezar" }).waitFor();
  await assertKioskScreen(page, "the Spanish start screen");
  await page.goto(start);
  await page.getByRole("link", { name: "Start" }).click();
  await assertKioskScreen(page, "the kiosk form");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("#error-summary").waitFor();
  await assertKioskScreen(page, "the kiosk form with problems");
  await answerAndSend(page, "Axe");
  await page.getByRole("heading", { name: "Thank you" }).waitFor();
  // The one exemption (docs/kiosk.md "Accessibility"): the timed return to the start is the
  // issue's privacy requirement and must work without a script, so it is a meta refresh,
  // which axe's meta-refresh rule (WCAG 2.2.1) reports. Nothing is lost by it (the answers
  // are stored), the page says when it happens, and a button goes back at once.
  await page.getByText("goes back to the start in 60 seconds").waitFor();
  await page.getByRole("link", { name: "Back to the start now" }).waitFor();
  await assertKioskScreen(page, "the kiosk thank-you page", ["meta-refresh"]);
});

async function screenshots(browser, dir) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: "en-US" });
  const page = await ctx.newPage();
  await page.clock.install();
  await enrol(page, { name: "Front desk tablet", idle_s: 60 });
  await page.screenshot({ path: path.join(dir, "kiosk-start.png") });
  await page.getByRole("link", { name: "Start" }).click();
  await page.check('input[name="aware"][value="yes"]');
  await page.clock.fastForward(61_000);
  await page.getByRole("alertdialog").waitFor();
  await page.screenshot({ path: path.join(dir, "kiosk-idle-warning.png") });
  await ctx.close();
  console.log(`screenshots in ${dir}`);
}

await runScript(tests, screenshots);
