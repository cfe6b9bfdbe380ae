// Opens a page in headless Chromium and calls functions the page defines,
// printing their results as JSON on stdout. The Go end-to-end tests serve
// the page from one origin and point its fetches at the sidecar on another,
// so Chromium enforces CORS between them exactly as for a real site.
//
// usage: node run.mjs '{"page": "http://127.0.0.1:PORT/", "calls": [{"fn": "name", "args": {...}}]}'
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const spec = JSON.parse(process.argv[2]);
const userDataDir = mkdtempSync(join(tmpdir(), 's3cors-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const results = [];
const consoleLines = [];
try {
  const page = await context.newPage();
  page.on('console', (m) => consoleLines.push(m.text()));
  await page.goto(spec.page);
  for (const call of spec.calls) {
    results.push(await page.evaluate(({ fn, args }) => window[fn](args), call));
  }
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify({ results, console: consoleLines }) + '\n');
