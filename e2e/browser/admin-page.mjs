// Drives the operator page (GET /s3_cors/ on Caddy's admin listener) in
// headless Chromium, one step after the other, and prints what each step
// saw as JSON on stdout: the Go end-to-end test (e2e/adminpage_test.go)
// decides what the steps are and checks the results.
//
// usage: node admin-page.mjs '{"page": "http://127.0.0.1:PORT/s3_cors/", "viewport": {"width": 1366, "height": 860}, "steps": [...]}'
//
// A step is {"do": ..., ...}; with "as": name, its result is also in
// "named" under that name:
//   goto {url}                    load a URL (the page's own URL when absent)
//   viewport {width, height}      resize the window
//   fill {sel, value}             type into an input or textarea (replacing its text)
//   click {sel}                   click an element
//   select {sel, value}           pick an option of a select
//   wait {sel, text?}             wait until sel is visible (and, with text, contains it)
//   text {sel}                    the element's visible text
//   count {sel}                   how many elements match
//   eval {expr}                   the value of a JavaScript expression in the page
//   screenshot {path, full?}      save a PNG of the window (the whole page with full)
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const spec = JSON.parse(process.argv[2]);
const userDataDir = mkdtempSync(join(tmpdir(), 's3cors-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
  headless: true,
  viewport: spec.viewport || { width: 1366, height: 860 },
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const results = [];
const named = {};
const consoleLines = [];
const pageErrors = [];
let failed = '';
try {
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (m) => consoleLines.push(m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => { pageErrors.push('unexpected dialog: ' + d.message()); d.dismiss(); });
  for (const step of spec.steps) {
    try {
      const value = await run(page, step);
      results.push(value);
      if (step.as) named[step.as] = value;
    } catch (e) {
      failed = `step ${results.length} ${JSON.stringify(step)}: ${e.message.split('\n')[0]}`;
      break;
    }
  }
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify({ results, named, console: consoleLines, errors: pageErrors, failed }) + '\n');

async function run(page, s) {
  switch (s.do) {
    case 'goto':
      await page.goto(s.url || spec.page);
      return null;
    case 'viewport':
      await page.setViewportSize({ width: s.width, height: s.height });
      return null;
    case 'fill':
      await page.locator(s.sel).fill(s.value);
      return null;
    case 'click':
      await page.locator(s.sel).click();
      return null;
    case 'select':
      await page.locator(s.sel).selectOption(s.value);
      return null;
    case 'wait':
      if (s.text) await page.locator(s.sel, { hasText: s.text }).first().waitFor({ state: 'visible' });
      else await page.locator(s.sel).first().waitFor({ state: 'visible' });
      return null;
    case 'text':
      return await page.locator(s.sel).first().innerText();
    case 'count':
      return await page.locator(s.sel).count();
    case 'eval':
      return await page.evaluate(s.expr);
    case 'screenshot':
      await page.screenshot({ path: s.path, fullPage: !!s.full });
      return s.path;
    default:
      throw new Error('unknown step ' + s.do);
  }
}
