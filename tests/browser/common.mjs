// What the browser scripts (run.mjs, admin.mjs, kiosk.mjs) use: the browser and the axe-core
// check.

import { chromium } from "playwright-core";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { strict as assert } from "node:assert";

const here = path.dirname(fileURLToPath(import.meta.url));
const axeSource = path.join(here, "node_modules", "axe-core", "axe.min.js");
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** Runs axe-core in the page: no violation of WCAG 2.1 A or AA. `exempt` names rules not run,
 *  each for a reason the caller gives where it passes it. */
export async function assertAccessible(page, what, exempt = []) {
  await page.addScriptTag({ path: axeSource });
  const result = await page.evaluate(
    async ([tags, exempt]) => {
      const rules = Object.fromEntries(exempt.map((id) => [id, { enabled: false }]));
      const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, rules });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
      }));
    },
    [WCAG, exempt],
  );
  assert.deepEqual(result, [], `axe violations on ${what}:\n${JSON.stringify(result, null, 2)}`);
}

/** A caller of the JSON API at `base` with a bearer token: `api(method, url, body?)` answers
 *  the JSON body, and fails on any status but 2xx. */
export function apiClient(base, token) {
  return async function api(method, url, body) {
    const res = await fetch(base + url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    assert.ok(res.ok, `${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** At `width` × `height`: no sideways scrolling, and every touch target at least 44 px tall.
 *  The page is left at the size it had. */
export async function assertFits(page, what, width, height) {
  const viewport = page.viewportSize();
  await page.setViewportSize({ width, height });
  const r = await page.evaluate(() => {
    const se = document.scrollingElement;
    const small = [];
    const targets = document.querySelectorAll(
      "input:not([type=hidden]), textarea, select, button, a[href], .choice label",
    );
    for (const el of targets) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue; // not shown (hidden question)
      if (box.height < 44) {
        small.push(`${el.tagName.toLowerCase()}#${el.id || ""} "${(el.textContent || el.name || "").trim().slice(0, 30)}" ${Math.round(box.height)}px`);
      }
    }
    return { scrollWidth: se.scrollWidth, clientWidth: se.clientWidth, small };
  });
  await page.setViewportSize(viewport);
  assert.ok(
    r.scrollWidth <= r.clientWidth,
    `${what} scrolls sideways at ${width}px: ${r.scrollWidth} > ${r.clientWidth}`,
  );
  assert.deepEqual(r.small, [], `${what}: touch targets under 44px at ${width}px`);
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

/** For each test: a page with JavaScript and one without, each in a context of its own (its
 *  own cookies and history). bypassCSP only lets the test inject axe-core; the pages
 *  themselves run under the CSP. */
export async function pagesWithAndWithoutScript(b) {
  const ctx = await b.newContext({ bypassCSP: true, locale: "en-US" });
  const noScript = await b.newContext({ bypassCSP: true, javaScriptEnabled: false, locale: "en-US" });
  return {
    args: { page: await ctx.newPage(), noScriptPage: await noScript.newPage(), browser: b },
    close: async () => {
      await ctx.close();
      await noScript.close();
    },
  };
}

/** A whole script: the browser, each test with `pagesWithAndWithoutScript`, then, with
 *  $CHORUS_SCREENSHOTS=DIR, `screenshots(browser, DIR)`; the closing line and exit code. */
export async function runScript(tests, screenshots) {
  const browser = await launchBrowser();
  let result;
  try {
    result = await runTests(browser, tests, pagesWithAndWithoutScript);
    if (process.env.CHORUS_SCREENSHOTS) await screenshots(browser, process.env.CHORUS_SCREENSHOTS);
  } finally {
    await browser.close();
  }
  finish(result);
}
