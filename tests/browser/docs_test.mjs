// Opens the API's /docs (Swagger UI) and /redoc in Debian's headless Chromium, driven by
// playwright-core from web/node_modules (scripts/install-web.sh): every operation renders,
// "Try it out" on GET /healthz calls the running API and shows its 200, and the pages load
// nothing from other origins and break no Content-Security-Policy rule.
//
//   node tests/browser/docs_test.mjs BASE_URL WEB_DIR DOCS_PNG REDOC_PNG OPERATION_COUNT
//
// Prints "docs-test: passed …" and exits 0, or names what failed and exits 1 (with
// screenshots of the failing page beside DOCS_PNG).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const [baseUrl, webDir, docsPng, redocPng, operationText] = process.argv.slice(2);
if (!operationText) {
  console.error('usage: docs_test.mjs BASE_URL WEB_DIR DOCS_PNG REDOC_PNG OPERATION_COUNT');
  process.exit(2);
}
const operations = Number(operationText);
const origin = new URL(baseUrl).origin;
const { chromium } = createRequire(path.join(webDir, '..', 'package.json'))('playwright-core');

const userDataDir = mkdtempSync(path.join(tmpdir(), 'tidemark-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1280, height: 900 },
});
const problems = [];
let page;
// Redoc's sidebar credit loads this logo from its CDN, unconditionally; the page's policy
// (img-src 'self') blocks it and Redoc then hides the image. Nothing else may leave the origin.
const blockedByPolicy = 'https://cdn.redoc.ly/redoc/logo-mini.svg';

/// Opens `url` in a fresh page that records errors and requests to other origins.
async function open(url) {
  page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on('console', (message) => {
    const text = message.text();
    const expected = text.includes(blockedByPolicy) && text.includes('Content Security Policy');
    if (message.type() === 'error' && !expected) problems.push(`${url}: console error: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`${url}: page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.push(`${url}: ${response.url()} answered ${response.status()}`);
    }
  });
  const external = (target) => !target.startsWith('data:') && !target.startsWith('blob:') &&
      new URL(target).origin !== origin;
  page.on('requestfinished', (request) => {
    if (external(request.url())) problems.push(`${url}: loaded from another origin: ${request.url()}`);
  });
  page.on('requestfailed', (request) => {
    const blocked = request.url() === blockedByPolicy &&
        ['csp', 'net::ERR_BLOCKED_BY_CSP'].includes(request.failure()?.errorText);
    if (external(request.url()) && !blocked) {
      problems.push(`${url}: tried another origin: ${request.url()} (${request.failure()?.errorText})`);
    }
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  if (response.status() !== 200) throw new Error(`${url} answered ${response.status()}`);
  return page;
}

async function countAtLeast(selector, count, what) {
  await page.waitForFunction(
      ([css, wanted]) => document.querySelectorAll(css).length >= wanted, [selector, count],
      { timeout: 30000 }).catch(() => {});
  const found = await page.locator(selector).count();
  if (found < count) throw new Error(`${what}: ${found} rendered, expected at least ${count}`);
  return found;
}

try {
  // Swagger UI: the operations render; "Try it out" on GET /healthz reaches the API.
  await open(`${baseUrl}/docs`);
  await page.locator('.information-container .title', { hasText: 'Tidemark API' }).waitFor();
  const rendered = await countAtLeast('.opblock', operations, 'Swagger UI operations');
  const healthz = page.locator('#operations-health-healthz');
  await healthz.locator('.opblock-summary-control').click();
  await healthz.locator('button.try-out__btn').click();
  await healthz.locator('button.execute').click();
  const status = healthz.locator('.live-responses-table .response .response-col_status');
  await status.first().waitFor();
  const answered = (await status.first().innerText()).trim();
  if (answered !== '200') throw new Error(`"Try it out" on GET /healthz showed ${answered}`);
  const body = await healthz.locator('.live-responses-table .response-col_description pre')
      .first().innerText();
  if (!body.includes('"status": "ok"')) throw new Error(`GET /healthz showed the body ${body}`);
  const url = await healthz.locator('.request-url pre').first().innerText();
  if (url.trim() !== `${origin}/healthz`) throw new Error(`"Try it out" called ${url}`);
  await healthz.scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollBy(0, -120));
  await page.screenshot({ path: docsPng });
  await page.close();

  // Redoc: the title and every operation render.
  await open(`${baseUrl}/redoc`);
  await page.locator('h1', { hasText: 'Tidemark API' }).first().waitFor();
  const documented = await countAtLeast('[data-section-id^="operation/"]', operations,
                                        'Redoc operations');
  await page.screenshot({ path: redocPng });
  await page.close();

  if (problems.length > 0) throw new Error(problems.join('\n'));
  console.log(`docs-test: passed: Swagger UI rendered ${rendered} operations, "Try it out" ` +
              `GET /healthz answered 200; Redoc rendered ${documented} operations; screenshots ` +
              `${docsPng} and ${redocPng}`);
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
  process.exit(0);
} catch (error) {
  console.error(`docs-test: failed: ${error.message}`);
  if (problems.length > 0) console.error(problems.join('\n'));
  if (page && !page.isClosed()) {
    const failed = docsPng.replace(/\.png$/, '-failure.png');
    await page.screenshot({ path: failed, fullPage: false }).catch(() => {});
    console.error(`docs-test: the page at the failure: ${failed}`);
  }
  await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
  process.exit(1);
}
