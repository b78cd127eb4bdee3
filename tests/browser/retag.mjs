// Re-tag and catch-up of follow-ups in a real browser (docs/retag.md): headless Chromium driven
// by playwright-core, axe-core for accessibility. Started by tests/browser.rs against the real
// binary with a fresh data directory and one all-sites admin "admin" who has a password:
//
//   CHORUS_ADMIN_TOKEN=... CHORUS_ADMIN_PASSWORD=... node tests/browser/retag.mjs BASE_URL
//
// With JavaScript the progress refreshes by itself until "Finished"; without it, reloading
// the page shows the same. A backwards range is refused on the page. No WCAG 2.1 A/AA
// violation on either page, before, during and after a run. Prints one line per test and
// "N passed, N failed"; exits 1 on any failure.

import { apiClient, assertAccessible, finish, launchBrowser, pagesWithAndWithoutScript, runTests } from "./common.mjs";
import { strict as assert } from "node:assert";

const base = process.argv[2];
const adminToken = process.env.CHORUS_ADMIN_TOKEN;
const adminPassword = process.env.CHORUS_ADMIN_PASSWORD;
if (!base || !adminToken || !adminPassword) {
  console.error("usage: CHORUS_ADMIN_TOKEN=.. CHORUS_ADMIN_PASSWORD=.. node tests/browser/retag.mjs BASE_URL");
  process.exit(2);
}
const site = "demo-clinic";
const api = apiClient(base, adminToken);

async function signIn(page) {
  await page.goto(`${base}/admin/login`);
  await page.fill("#name", "admin");
  await page.fill("#password", adminPassword);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith("/login")), page.click("form.login button[type=submit]")]);
}

async function submitSome(n) {
  for (let i = 0; i < n; i++) {
    await api("POST", `/api/v1/sites/${site}/surveys/provider-enrollment/responses`, {
      answers: { role: "physician", offer_to: "some", when_best: "check_out", who_should: "nurse_ma", help_available: "no" },
    });
  }
}

/** Waits until the progress section says Finished: by itself with JavaScript, by reloading
 *  the page without. */
async function waitFinished(page, reload) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const text = await page.locator("#progress").innerText();
    if (text.includes("Finished")) return text;
    assert.ok(Date.now() < deadline, `never finished: ${text}`);
    if (reload) await page.reload();
    else await page.waitForTimeout(200);
  }
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("re-tag from the rules page: refused range, then a run that finishes", async ({ page }) => {
  await submitSome(3);
  await signIn(page);
  await page.goto(`${base}/admin/sites/${site}/rules`);
  await page.getByRole("link", { name: "Re-tag stored responses" }).click();
  await assertAccessible(page, "re-tag page");
  await page.getByLabel("From (optional)").fill("2026-02-01");
  await page.getByLabel("Before (optional)").fill("2026-01-01");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Start re-tag" }).click()]);
  assert.match(await page.getByRole("alert").innerText(), /Before: must be later than From/);
  await assertAccessible(page, "re-tag page with a refusal");
  await page.getByLabel("From (optional)").fill("");
  await page.getByLabel("Before (optional)").fill("");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Start re-tag" }).click()]);
  const text = await waitFinished(page, false);
  assert.match(text, /by admin/);
  await assertAccessible(page, "re-tag page, finished");
});

test("without JavaScript: a re-tag from the form, a catch-up preview; reloading shows the progress", async ({ noScriptPage: page }) => {
  await signIn(page);
  await page.goto(`${base}/admin/sites/${site}/retag`);
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Start re-tag" }).click()]);
  assert.match(await waitFinished(page, true), /by admin/);
  await page.goto(`${base}/admin/sites/${site}/catch-up`);
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Preview" }).click()]);
  assert.match(await page.locator("#preview-summary").innerText(), /stored response\(s\) looked at/);
  await api("POST", `/api/v1/sites/${site}/catch-up`);
  await page.goto(`${base}/admin/sites/${site}/catch-up`);
  assert.match(await waitFinished(page, true), /by admin/);
});

test("catch-up with JavaScript: the progress refreshes by itself; accessible throughout", async ({ page }) => {
  await signIn(page);
  await page.goto(`${base}/admin/sites/${site}/catch-up`);
  await assertAccessible(page, "catch-up page");
  await page.getByLabel("From (optional)").fill("2020-01-01");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Preview" }).click()]);
  assert.match(await page.locator("#preview-summary").innerText(), /looked at/);
  await assertAccessible(page, "catch-up preview");
  // Start one through the API (the page's own Create needs something missing, which the
  // demo's rules never leave), then watch the page finish without reloading it.
  await api("POST", `/api/v1/sites/${site}/catch-up?since=2020-01-01`);
  await page.goto(`${base}/admin/sites/${site}/catch-up`);
  const text = await waitFinished(page, false);
  assert.match(text, /by admin/);
  await assertAccessible(page, "catch-up page, finished");
});

const browser = await launchBrowser();
let result;
try {
  result = await runTests(browser, tests, pagesWithAndWithoutScript);
} finally {
  await browser.close();
}
finish(result);
