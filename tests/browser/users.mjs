// User management in a real browser: headless Chromium driven by playwright-core, axe-core for
// accessibility. Started by tests/browser.rs against the real binary with a fresh data
// directory and one all-sites admin "admin" who has a password:
//
//   CHORUS_ADMIN_PASSWORD=... node tests/browser/users.mjs BASE_URL
//
// An admin invites a user, who opens the link in a browser of their own, sets a password and
// signs in; the admin changes their role and disables them (their session ends); the same
// forms without JavaScript; no WCAG 2.1 A/AA violation on the users, account and link pages.
// Prints one line per test and "N passed, N failed"; exits 1 on any failure.

import { assertAccessible, finish, launchBrowser, pagesWithAndWithoutScript, runTests } from "./common.mjs";
import { strict as assert } from "node:assert";

const base = process.argv[2];
const adminPassword = process.env.CHORUS_ADMIN_PASSWORD;
if (!base || !adminPassword) {
  console.error("usage: CHORUS_ADMIN_PASSWORD=.. node tests/browser/users.mjs BASE_URL");
  process.exit(2);
}
const site = "demo-clinic";

async function signIn(page, name, password) {
  await page.goto(`${base}/admin/login`);
  await page.fill("#name", name);
  await page.fill("#password", password);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith("/login")), page.click("form.login button[type=submit]")]);
}

/** Adds a user on the Users page; returns the password link shown once. */
async function addUser(page, name, role) {
  await page.goto(`${base}/admin/users`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Site", { exact: true }).selectOption(site);
  await page.getByLabel("Role", { exact: true }).selectOption(role);
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Add user" }).click()]);
  const status = page.getByRole("status");
  assert.match(await status.innerText(), new RegExp(`Added ${name}\\.`));
  const link = (await page.locator("#new-link").innerText()).trim();
  assert.match(link, /\/admin\/password\/[0-9a-f]{64}$/);
  assert.match((await page.locator("#new-token").innerText()).trim(), /^chorus_[0-9a-f]{64}$/);
  return link;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("invite → the user sets a password and signs in → role changed → disabled", async ({ page, browser }) => {
  await signIn(page, "admin", adminPassword);
  await page.goto(`${base}/admin/users`);
  await assertAccessible(page, "users page");
  const link = await addUser(page, "nurse-nia", "viewer");
  await assertAccessible(page, "users page with a new token and link");

  // The invited user, in a browser of their own.
  const theirs = await browser.newContext({ bypassCSP: true, locale: "en-US" });
  const nia = await theirs.newPage();
  await nia.goto(link);
  assert.match(await nia.locator("main").innerText(), /setting the password of\s+nurse-nia/);
  await assertAccessible(nia, "set-password page");
  const password = "nia's own long passphrase";
  await nia.getByLabel("New password", { exact: true }).fill("too short");
  await nia.getByLabel("New password again").fill("too short");
  // minlength stops the browser from sending it; the server refuses it too (tests/users_api.rs).
  await nia.getByRole("button", { name: "Set password" }).click();
  assert.equal(await nia.locator("#password").evaluate((el) => el.validity.valid), false);
  await nia.getByLabel("New password", { exact: true }).fill(password);
  await nia.getByLabel("New password again").fill(password);
  await Promise.all([nia.waitForLoadState("load"), nia.getByRole("button", { name: "Set password" }).click()]);
  assert.match(await nia.getByRole("status").innerText(), /Your password is set/);
  await assertAccessible(nia, "password set page");
  await nia.getByRole("link", { name: "Sign in" }).click();
  await signIn(nia, "nurse-nia", password);
  assert.ok(new URL(nia.url()).pathname.startsWith(`/admin/sites/${site}`), nia.url());
  // A viewer sees no Follow-ups link; after the role change, staff do.
  assert.equal(await nia.getByRole("link", { name: "Follow-ups" }).count(), 0);

  // The admin makes them staff.
  await page.goto(`${base}/admin/users`);
  await page.getByLabel("Role of nurse-nia").selectOption("staff");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Change role of nurse-nia" }).click()]);
  assert.match(await page.getByRole("status").innerText(), /nurse-nia is now staff\./);
  await nia.reload();
  assert.equal(await nia.getByRole("link", { name: "Follow-ups" }).count(), 1);

  // The admin disables them: their session ends, and they cannot sign in again.
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Disable nurse-nia" }).click()]);
  assert.match(await page.getByRole("status").innerText(), /nurse-nia is disabled/);
  await assertAccessible(page, "users page after disabling");
  await nia.goto(`${base}/admin/sites/${site}`);
  assert.ok(new URL(nia.url()).pathname.endsWith("/admin/login"), nia.url());
  await nia.fill("#name", "nurse-nia");
  await nia.fill("#password", password);
  await Promise.all([nia.waitForLoadState("load"), nia.click("form.login button[type=submit]")]);
  assert.match(await nia.getByRole("alert").innerText(), /name or the password is wrong/);
  // The link was used once.
  await nia.goto(link);
  assert.match(await nia.getByRole("alert").innerText(), /not valid/);
  await theirs.close();
});

/** Adds a user, is refused the same name again, and is refused on the account page; `axe`:
 *  check each state (only where JavaScript runs, which axe-core needs). */
async function formsAndRefusals(page, name, axe) {
  const check = axe ? (what) => assertAccessible(page, what) : async () => {};
  await signIn(page, "admin", adminPassword);
  await addUser(page, name, "staff");
  // The same name again: refused on the page, what was typed kept, nothing changed.
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Role", { exact: true }).selectOption("admin");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Add user" }).click()]);
  assert.match(await page.getByRole("alert").innerText(), /already exists/);
  assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), name);
  await check("users page with a refusal");
  const row = page.getByRole("row", { name: new RegExp(name) });
  assert.match(await row.innerText(), /staff/);

  await page.goto(`${base}/admin/account`);
  await check("account page");
  await page.getByLabel("Current password").fill("not the password at all");
  await page.getByLabel("New password", { exact: true }).fill("another long passphrase");
  await page.getByLabel("New password again").fill("another long passphrase");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Change password" }).click()]);
  assert.match(await page.getByRole("alert").innerText(), /current password is wrong/);
  await check("account page with a refusal");
}

test("without JavaScript: add a user, a refusal on the page, the account page", async ({ noScriptPage }) => {
  await formsAndRefusals(noScriptPage, "front-desk", false);
});

test("refusals are announced and accessible", async ({ page }) => {
  await formsAndRefusals(page, "back-office", true);
});

const browser = await launchBrowser();
let result;
try {
  result = await runTests(browser, tests, pagesWithAndWithoutScript);
} finally {
  await browser.close();
}
finish(result);
