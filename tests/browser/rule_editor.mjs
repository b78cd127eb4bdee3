// The rule editor in a real browser (issue 19): headless Chromium driven by playwright-core,
// axe-core for accessibility. Started by tests/browser.rs against the real binary on a copy of
// the demo site whose rules live in the store (rules_source = "store"), with a fresh data
// directory and one all-sites admin who has a password:
//
//   CHORUS_ADMIN_TOKEN=... CHORUS_ADMIN_PASSWORD=... node tests/browser/rule_editor.mjs BASE_URL
//
// With JavaScript and without it: edit a rule so that a rule test fails → Check lists the
// failing test at its line and Apply refuses it → fix it → Check passes → Apply shows the diff →
// confirm → a submission is tagged by the new version → restore the previous version from its
// page → the next submission is not. No WCAG 2.1 A/AA violation (axe-core) on the editor, the
// diff and the version page. Set CHORUS_SCREENSHOTS=DIR to save them (docs/rules.md).
// Prints one line per test and "N passed, N failed"; exits 1 on any failure.

import { assertAccessible, runScript } from "./common.mjs";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { strict as assert } from "node:assert";

const base = process.argv[2];
const password = process.env.CHORUS_ADMIN_PASSWORD;
if (!base || !password) {
  console.error("usage: CHORUS_ADMIN_PASSWORD=.. node tests/browser/rule_editor.mjs BASE_URL");
  process.exit(2);
}
const site = "demo-clinic";
const editor = `${base}/admin/sites/${site}/rules/files/parking.rhai`;

// ---------------------------------------------------------------- helpers

async function signIn(page) {
  await page.goto(`${base}/admin/login`);
  await page.fill("#name", "admin");
  await page.fill("#password", password);
  await Promise.all([page.waitForURL(/\/admin\/sites\//), page.click("button[type=submit]")]);
}

/** The tags a patient's comment gets from the running rules (a real submission). */
async function tagsOf(comment) {
  const res = await fetch(`${base}/api/v1/sites/${site}/surveys/patient-enrollment/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ answers: { aware: "yes", tried: "no", contact_ok: "no", comments: comment } }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.tags;
}

/** The rule with "lobby" among the desk keywords, and one whose tag is gone (its tests fail). */
function drafts(original) {
  const lobby = original.replace('"only open"]);', '"only open", "lobby"]);');
  const untagged = original.replace('["parking"] } else', "[] } else");
  assert.notEqual(lobby, original, "the desk keyword list changed shape");
  assert.notEqual(untagged, original, "the tag line changed shape");
  return { lobby, untagged };
}

async function click(p, button, url) {
  await Promise.all([p.waitForURL(url), p.click(`button:text('${button}')`)]);
}

/** Puts `text` in the editor and presses Check. */
async function check(p, text) {
  await p.fill("#text", text);
  await click(p, "Check", /\/check$/);
}

/** Presses Confirm on the diff; the version number applied. */
async function confirm(p, what) {
  await click(p, "Confirm: apply these changes", /\?applied=\d+$/);
  const number = Number(new URL(p.url()).searchParams.get("applied"));
  assert.match(await p.textContent("[role=status]"), new RegExp(`Applied: version ${number} now runs`), what);
  return number;
}

// ---------------------------------------------------------------- tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("edit, check, apply and restore a rule, with and without JavaScript", async ({ page, noScriptPage }) => {
  const comment = "I got lost in the lobby";
  for (const [p, what] of [[page, "with JavaScript"], [noScriptPage, "without JavaScript"]]) {
    await signIn(p);
    await p.goto(editor);
    const original = await p.inputValue("#text");
    const { lobby, untagged } = drafts(original);
    assert.ok(!(await tagsOf(comment)).includes("parking"), `${what}: not tagged before`);

    // A draft that breaks a rule test: Check lists it at its line, Apply refuses it.
    await check(p, untagged);
    const alert = await p.textContent("[role=alert]");
    assert.match(alert, /rule test\(s\) fail with this draft/, what);
    assert.match(alert, /rules\/tests\/parking\.toml:\d+:\d+: case "/, `${what}: the failing test at its line`);
    if (p === page) await assertAccessible(p, "rule editor listing a failing test");
    await click(p, "Apply…", /\/apply$/);
    assert.match(await p.textContent("[role=alert]"), /The draft was not applied/, what);
    assert.equal(await p.locator("button:text('Confirm: apply these changes')").count(), 0, what);
    await p.goto(editor);
    assert.equal(await p.inputValue("#text"), original, `${what}: nothing was applied`);

    // Fixed: Check passes, Apply shows the diff, Confirm applies it.
    await p.fill("#message", `lobby is the desk too (${what})`);
    await check(p, lobby);
    assert.match(await p.textContent("[role=status]"), /every rule test of the site passes/, what);
    await click(p, "Apply…", /\/apply$/);
    assert.match(await p.textContent("ins.add"), /"lobby"/, `${what}: the added line`);
    if (p === page) await assertAccessible(p, "rule editor showing the diff");
    const applied = await confirm(p, what);
    assert.ok((await tagsOf(comment)).includes("parking"), `${what}: tagged by version ${applied}`);

    // Restore the version before it from its page.
    await p.goto(`${editor}/versions/${applied - 1}`);
    if (p === page) await assertAccessible(p, "rule version page");
    assert.match(await p.textContent("del.del"), /"lobby"/, `${what}: the version lacks the keyword`);
    await click(p, "Restore this version…", /\/apply$/);
    assert.equal(await confirm(p, what), applied + 1, what);
    assert.equal(await p.inputValue("#text"), original, `${what}: the restored text runs`);
    assert.ok(!(await tagsOf(comment)).includes("parking"), `${what}: not tagged after the restore`);
    if (p === page) await assertAccessible(p, "rule editor after an apply");
  }
});

// ---------------------------------------------------------------- screenshots

/** docs/rules.md's walk-through, at a desktop size. */
async function screenshots(browser, dir) {
  mkdirSync(dir, { recursive: true });
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  await signIn(page);
  await page.goto(editor);
  const original = await page.inputValue("#text");
  const { lobby, untagged } = drafts(original);
  const shot = async (file, selector) => {
    await page.locator(selector).first().screenshot({ path: path.join(dir, file) });
  };
  await check(page, untagged);
  await shot("rule-editor-failing-test.png", "section[aria-labelledby=check-result]");
  await page.fill("#message", "lobby is the desk too");
  await check(page, lobby);
  await click(page, "Apply…", /\/apply$/);
  await shot("rule-editor-diff.png", "section[aria-labelledby=diff-head]");
  const applied = await confirm(page, "screenshots");
  await shot("rule-editor-versions.png", "section[aria-labelledby=versions-head]");
  await page.goto(`${editor}/versions/${applied - 1}`);
  await shot("rule-version.png", "section[aria-labelledby=compare-head]");
  await click(page, "Restore this version…", /\/apply$/);
  await confirm(page, "screenshots");
  await ctx.close();
  console.log(`screenshots saved in ${dir}`);
}

await runScript(tests, screenshots);
