// What both browser scripts (run.mjs, admin.mjs) use: the browser and the axe-core check.

import { chromium } from "playwright-core";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { strict as assert } from "node:assert";

const here = path.dirname(fileURLToPath(import.meta.url));
const axeSource = path.join(here, "node_modules", "axe-core", "axe.min.js");
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** Runs axe-core in the page: no violation of WCAG 2.1 A or AA. */
export async function assertAccessible(page, what) {
  await page.addScriptTag({ path: axeSource });
  const result = await page.evaluate(
    async (tags) => {
      const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags } });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
      }));
    },
    WCAG,
  );
  assert.deepEqual(result, [], `axe violations on ${what}:\n${JSON.stringify(result, null, 2)}`);
}

/** Headless Chromium (Debian's, or $CHROMIUM); playwright-core gives every launch a fresh,
 *  temporary profile (--user-data-dir) of its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Runs each test (or those whose name has $CHORUS_BROWSER_ONLY) with the pages `open` makes
 *  for it, one line each; returns how many passed and failed. `open(browser)` gives
 *  `{ args, close }`: what the test gets, and what closes it afterwards. */
export async function runTests(browser, tests, open) {
  let passed = 0;
  let failed = 0;
  const only = process.env.CHORUS_BROWSER_ONLY;
  for (const t of tests) {
    if (only && !t.name.includes(only)) continue;
    const { args, close } = await open(browser);
    try {
      await t.fn(args);
      passed++;
      console.log(`ok - ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${t.name}\n  ${String(e.stack || e).split("\n").join("\n  ")}`);
    } finally {
      await close();
    }
  }
  return { passed, failed };
}

/** The closing line, and the exit code: 1 on any failure or when nothing ran. */
export function finish({ passed, failed }) {
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
