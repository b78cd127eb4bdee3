// Respondent pages in a real browser: headless Chromium driven by playwright-core, with
// axe-core for accessibility. Started by tests/browser.rs against the real binary:
//
//   node tests/browser/run.mjs BASE_URL DATA_DIR
//
// DATA_DIR holds the server's initial-admin-token (to count stored responses through the API
// and to create invitation links). Set CHORUS_SCREENSHOTS=DIR to also save screenshots of the
// patient form. Prints one line per test and "N passed, N failed"; exits 1 on any failure.

import { apiClient, assertAccessible, assertFits, runScript } from "./common.mjs";
import { readFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { strict as assert } from "node:assert";

const base = process.argv[2];
const dataDir = process.argv[3];
if (!base || !dataDir) {
  console.error("usage: node tests/browser/run.mjs BASE_URL DATA_DIR");
  process.exit(2);
}
const adminToken = readFileSync(path.join(dataDir, "initial-admin-token"), "utf8").trim();
const site = "demo-clinic";
const surveys = ["patient-enrollment", "provider-enrollment", "leadership-enrollment"];

// ---------------------------------------------------------------- helpers

const api = apiClient(base, adminToken);

async function stored(survey) {
  const list = await api("GET", `/api/v1/sites/${site}/responses?survey=${survey}&limit=1000`);
  return list.responses;
}

function formUrl(survey) {
  return `${base}/s/${site}/${survey}`;
}

/** At 320 px wide: no sideways scrolling, and every touch target at least 44 px tall. */
function assertNarrowScreenFits(page, what) {
  return assertFits(page, what, 320, 640);
}

/** The visible questions' container ids, in page order. */
async function visibleQuestions(page) {
  return page.$$eval("#answers .q", (qs) =>
    qs.filter((q) => !q.hidden && q.getBoundingClientRect().height > 0).map((q) => q.id),
  );
}

/** Answers every question shown with the mouse: the first choice, a number, some text. */
async function fillWithMouse(page) {
  const done = new Set();
  for (;;) {
    const next = (await visibleQuestions(page)).find((id) => !done.has(id));
    if (!next) return;
    done.add(next);
    const q = page.locator(`#${next}`);
    if (await q.locator(".choice label").count()) {
      await q.locator(".choice label").first().click();
    } else if (await q.locator("input.num").count()) {
      const input = q.locator("input.num");
      await input.click();
      await input.fill((await input.getAttribute("min")) || "1");
    } else if (await q.locator("input.text").count()) {
      await q.locator("input.text").click();
      await q.locator("input.text").fill("555-0100");
    } else {
      await q.locator("textarea").click();
      await q.locator("textarea").fill("Sent with the mouse.");
    }
  }
}

/** Answers every question with the keyboard only (Tab, Space, typing), then Enter on send. */
async function fillWithKeyboardAndSend(page) {
  const groups = new Set();
  for (let i = 0; i < 300; i++) {
    await page.keyboard.press("Tab");
    const el = await page.evaluate(() => {
      const a = document.activeElement;
      return {
        tag: a.tagName,
        type: a.type,
        name: a.name,
        min: a.getAttribute("min"),
        checked: a.checked,
      };
    });
    if (el.tag === "BUTTON") {
      await page.keyboard.press("Enter");
      return;
    }
    if (el.tag === "INPUT" && (el.type === "radio" || el.type === "checkbox")) {
      if (!groups.has(el.name)) {
        groups.add(el.name);
        if (!el.checked) await page.keyboard.press("Space");
      }
    } else if (el.tag === "INPUT" && el.type === "number") {
      await page.keyboard.type(el.min || "1");
    } else if (el.tag === "INPUT" && el.type === "text") {
      await page.keyboard.type("555-0100");
    } else if (el.tag === "TEXTAREA") {
      await page.keyboard.type("Sent with the keyboard only.");
    }
  }
  throw new Error("never reached the send button with Tab");
}

async function expectThanks(page, lang = "en") {
  await page.waitForURL(/\/thanks(\?|$)/);
  assert.equal(await page.getAttribute("html", "lang"), lang);
  const h1 = await page.textContent("h1");
  assert.ok(/Thank you|Muchas gracias/.test(h1), `thank-you heading: ${h1}`);
}

// ---------------------------------------------------------------- tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

for (const survey of surveys) {
  test(`${survey}: form is accessible and fits a 320px screen`, async ({ page }) => {
    await page.goto(formUrl(survey));
    await assertAccessible(page, `${survey} form`);
    await assertNarrowScreenFits(page, `${survey} form`);
  });

  test(`${survey}: fill and send with the mouse`, async ({ page }) => {
    const before = (await stored(survey)).length;
    await page.goto(formUrl(survey));
    await fillWithMouse(page);
    await page.click("button.submit");
    await expectThanks(page);
    await assertAccessible(page, `${survey} thank-you page`);
    await assertNarrowScreenFits(page, `${survey} thank-you page`);
    assert.equal((await stored(survey)).length, before + 1);
  });

  test(`${survey}: fill and send with the keyboard only`, async ({ page }) => {
    const before = (await stored(survey)).length;
    await page.goto(formUrl(survey));
    await fillWithKeyboardAndSend(page);
    await expectThanks(page);
    const after = await stored(survey);
    assert.equal(after.length, before + 1);
    const last = after[after.length - 1];
    assert.ok(Object.keys(last.answers).length >= 3, JSON.stringify(last.answers));
  });

  test(`${survey}: fill and send with JavaScript off`, async ({ noScriptPage: page }) => {
    const before = (await stored(survey)).length;
    await page.goto(formUrl(survey));
    assert.equal(await page.$eval("html", (h) => h.classList.contains("js")), false);
    await fillWithMouse(page);
    await page.click("button.submit");
    await expectThanks(page);
    assert.equal((await stored(survey)).length, before + 1);
  });

  test(`${survey}: an invalid answer shows the error summary, focused, answers kept`, async ({ page }) => {
    const before = (await stored(survey)).length;
    await page.goto(formUrl(survey));
    // Answer only the first question, then send.
    const first = page.locator("#answers .q").first();
    await first.locator(".choice label").first().click();
    const firstInput = await first.locator("input").first().getAttribute("id");
    await page.click("button.submit");
    await page.waitForSelector("#error-summary");
    assert.match(await page.title(), /^Error: /);
    assert.equal(await page.evaluate(() => document.activeElement.id), "error-summary");
    assert.equal(await page.locator("#error-summary [role=alert]").count(), 1);
    assert.ok((await page.locator("#error-summary li").count()) >= 1);
    assert.equal(await page.isChecked(`#${firstInput}`), true, "first answer kept");
    await assertAccessible(page, `${survey} form with errors`);
    await assertNarrowScreenFits(page, `${survey} form with errors`);
    // A summary link takes the focus to the question.
    const href = await page.locator("#error-summary a").first().getAttribute("href");
    await page.locator("#error-summary a").first().click();
    assert.equal(await page.evaluate(() => "#" + document.activeElement.id), href);
    assert.equal((await stored(survey)).length, before, "nothing stored");
    // Fixing the answers sends the form.
    await fillWithMouse(page);
    await page.click("button.submit");
    await expectThanks(page);
    assert.equal((await stored(survey)).length, before + 1);
  });

  test(`${survey}: a double click on send stores one response`, async ({ page }) => {
    const before = (await stored(survey)).length;
    await page.goto(formUrl(survey));
    await fillWithMouse(page);
    await page.dblclick("button.submit");
    await expectThanks(page);
    assert.equal((await stored(survey)).length, before + 1);
  });

  test(`${survey}: a double click with JavaScript off stores one response`, async ({ noScriptPage: page }) => {
    const before = (await stored(survey)).length;
    await page.goto(formUrl(survey));
    await fillWithMouse(page);
    await page.dblclick("button.submit");
    await expectThanks(page);
    assert.equal((await stored(survey)).length, before + 1);
  });
}

test("patient: show_if questions appear and disappear", async ({ page }) => {
  await page.goto(formUrl("patient-enrollment"));
  const shown = async (id) => page.isVisible(`#question-${id}`);
  assert.equal(await shown("enrolled"), false);
  assert.equal(await shown("what_happened"), false);
  assert.equal(await shown("why_not"), false);
  await page.click("label[for=q-tried]"); // Yes
  assert.equal(await shown("enrolled"), true);
  assert.equal(await shown("what_happened"), true);
  assert.equal(await shown("why_not"), false);
  await page.click("label[for=q-tried-2]"); // No
  assert.equal(await shown("enrolled"), false);
  assert.equal(await shown("what_happened"), false);
  assert.equal(await shown("why_not"), true);
  assert.equal(await shown("contact_phone"), false);
  await page.click("label[for=q-contact_ok]");
  assert.equal(await shown("contact_phone"), true);
  await assertAccessible(page, "patient form with follow-up questions shown");
});

test("patient: without JavaScript every question shows with when it applies", async ({ noScriptPage: page }) => {
  await page.goto(formUrl("patient-enrollment"));
  assert.equal(await page.isVisible("#question-enrolled"), true);
  assert.match(await page.textContent("#q-enrolled-cond"), /only if/);
});

test("patient: Spanish by ?lang=es, by Accept-Language, and the switch link", async ({ page, browser }) => {
  await page.goto(formUrl("patient-enrollment") + "?lang=es");
  assert.equal(await page.getAttribute("html", "lang"), "es");
  assert.match(await page.textContent("h1"), /portal del paciente/);
  assert.equal(await page.textContent("button.submit"), "Enviar mis respuestas");
  await assertAccessible(page, "Spanish patient form");
  await assertNarrowScreenFits(page, "Spanish patient form");
  // The switch goes back to English.
  await page.click(".langs a[lang=en]");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  // A Spanish browser gets Spanish without asking.
  const ctx = await browser.newContext({ locale: "es-MX", bypassCSP: true });
  const es = await ctx.newPage();
  await es.goto(formUrl("patient-enrollment"));
  assert.equal(await es.getAttribute("html", "lang"), "es");
  assert.equal(await es.textContent(".langs a"), "English");
  // Errors and thanks stay in Spanish; the answer is stored as the option value.
  await es.click("button.submit");
  await es.waitForSelector("#error-summary");
  assert.match(await es.textContent("#error-summary h2"), /Hay un problema/);
  await assertAccessible(es, "Spanish form with errors");
  const before = (await stored("patient-enrollment")).length;
  await fillWithMouse(es);
  await es.click("button.submit");
  await expectThanks(es, "es");
  await assertAccessible(es, "Spanish thank-you page");
  const after = await stored("patient-enrollment");
  assert.equal(after.length, before + 1);
  const last = after[after.length - 1];
  assert.equal(last.language, "es");
  assert.equal(last.answers.aware, "yes");
  await ctx.close();
});

test("invitation link: works once, then says what to do instead", async ({ page }) => {
  const created = await api("POST", `/api/v1/sites/${site}/surveys/patient-enrollment/invitations`, {
    count: 2,
    expires_in_days: 7,
  });
  assert.equal(created.invitations.length, 2);
  const link = created.invitations[0].url;
  assert.match(link, /\/s\/demo-clinic\/patient-enrollment\?t=[A-Za-z0-9_-]{43}$/);
  const before = await stored("patient-enrollment");
  await page.goto(link);
  await fillWithMouse(page);
  await page.dblclick("button.submit");
  await expectThanks(page);
  const after = await stored("patient-enrollment");
  assert.equal(after.length, before.length + 1);
  const last = after[after.length - 1];
  assert.ok(!JSON.stringify(last).includes(link.split("t=")[1]), "response does not hold the token");
  const again = await page.goto(link);
  assert.equal(again.status(), 410);
  assert.match(await page.textContent("h1"), /already been used/);
  await assertAccessible(page, "used invitation page");
  await assertNarrowScreenFits(page, "used invitation page");
  await page.click("a.button-link");
  assert.equal(new URL(page.url()).search, "");
  assert.equal(await page.locator("#answers").count(), 1);
  const unknown = await page.goto(formUrl("patient-enrollment") + "?t=nonsense");
  assert.equal(unknown.status(), 404);
  assert.match(await page.textContent("h1"), /do not recognise/);
});

test("poster and QR code", async ({ page }) => {
  const res = await page.goto(formUrl("patient-enrollment") + "/poster");
  assert.equal(res.status(), 200);
  const img = page.locator("img.qr");
  await img.waitFor();
  assert.ok(await img.evaluate((i) => i.complete && i.naturalWidth > 0), "QR image loads");
  assert.match(await page.textContent(".url"), /\/s\/demo-clinic\/patient-enrollment$/);
  await assertAccessible(page, "poster page");
  await assertNarrowScreenFits(page, "poster page");
  for (const paper of ["a4", "letter"]) {
    await page.goto(formUrl("patient-enrollment") + `/poster?paper=${paper}`);
    await page.emulateMedia({ media: "print" });
    const pdf = await page.pdf({ preferCSSPageSize: true });
    // One page: the poster fits the sheet.
    const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) || []).length;
    assert.equal(pages, 1, `${paper} poster prints on one page`);
    await page.emulateMedia({ media: "screen" });
  }
});

test("unknown survey: friendly 404 in the browser's language", async ({ page }) => {
  const res = await page.goto(`${base}/s/${site}/no-such-survey?lang=es`);
  assert.equal(res.status(), 404);
  assert.match(await page.textContent("h1"), /No encontramos/);
  await assertAccessible(page, "404 page");
});

// ---------------------------------------------------------------- screenshots

async function screenshots(browser, dir) {
  mkdirSync(dir, { recursive: true });
  const shots = [
    { file: "patient-form-phone.png", width: 375, height: 812, url: "" },
    { file: "patient-form-desktop.png", width: 1280, height: 900, url: "" },
    { file: "patient-form-phone-es.png", width: 375, height: 812, url: "?lang=es" },
  ];
  for (const s of shots) {
    const ctx = await browser.newContext({
      viewport: { width: s.width, height: s.height },
      deviceScaleFactor: 1,
    });
    const page = await ctx.newPage();
    await page.goto(formUrl("patient-enrollment") + s.url);
    await page.screenshot({ path: path.join(dir, s.file) });
    await ctx.close();
  }
  console.log(`screenshots saved in ${dir}`);
}

// ---------------------------------------------------------------- runner

await runScript(tests, screenshots);
