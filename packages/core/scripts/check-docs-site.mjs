// Opens the built documentation site (docs/api, from `pnpm run docs`) in headless Chromium over
// HTTP on 127.0.0.1: the index, the SocketPoll page, a guide and a recipe page render with no
// console error; search finds SocketPoll and waitAsync; no link between pages is broken.
// Screenshots go to packages/core/output/docs-site/.
//
//   pnpm --filter @socketpoll/core run docs:check    (exit 0: passed; 1: failed; prints why it skips)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SITE = path.join(ROOT, 'docs/api');
const OUTPUT = path.join(ROOT, 'packages/core/output/docs-site');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

if (!fs.existsSync(CHROMIUM)) {
  console.log(`docs-site: skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  process.exit(0);
}
if (!fs.existsSync(path.join(SITE, 'index.html'))) {
  console.error(`docs-site: ${SITE}/index.html is missing: run \`pnpm run docs\` first`);
  process.exit(1);
}
const { chromium } = await import('playwright-core');

/** Every internal link of every page resolves to a file, and its #anchor to an id in it. */
function brokenLinks() {
  const pages = fs.readdirSync(SITE, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.html'));
  const ids = new Map();
  const idsOf = (file) => {
    if (!ids.has(file)) ids.set(file, new Set([...fs.readFileSync(file, 'utf8').matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])));
    return ids.get(file);
  };
  const broken = [];
  for (const page of pages) {
    const file = path.join(SITE, page);
    for (const [, href] of fs.readFileSync(file, 'utf8').matchAll(/\shref="([^"]*)"/g)) {
      if (/^(https?:|mailto:)/.test(href) || href === '#') continue;
      const [target, anchor] = href.split('#');
      const resolved = target === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(target));
      if (!resolved.startsWith(SITE) || !fs.existsSync(resolved)) broken.push(`${page}: ${href}`);
      else if (anchor && resolved.endsWith('.html') && !idsOf(resolved).has(decodeURIComponent(anchor))) broken.push(`${page}: ${href} (no such anchor)`);
    }
  }
  return { pages: pages.length, broken };
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json' };
const server = http.createServer((req, res) => {
  const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
  if (rel === 'favicon.ico') {
    res.writeHead(204).end(); // the site has none; Chromium asks anyway
    return;
  }
  const file = path.join(SITE, rel);
  if (!file.startsWith(SITE) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}/`;

const failures = [];
const check = async (name, fn) => {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (err) {
    failures.push(name);
    console.log(`not ok - ${name}\n${String(err?.stack ?? err).replace(/^/gm, '    ')}`);
  }
};

fs.rmSync(OUTPUT, { recursive: true, force: true });
fs.mkdirSync(OUTPUT, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  const notFound = [];
  context.on('page', () => {});
  const open = async (rel) => {
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && errors.push(`${rel}: console: ${m.text()}`));
    page.on('pageerror', (e) => errors.push(`${rel}: ${e.message}`));
    page.on('response', (r) => r.status() >= 400 && notFound.push(`${rel}: ${r.status()} ${r.url()}`));
    const response = await page.goto(base + rel, { waitUntil: 'load' });
    assert.equal(response.status(), 200, `${rel}: HTTP ${response.status()}`);
    await page.waitForFunction(() => document.body.style.display !== 'none');
    return page;
  };

  // The class page's file name depends on the entry points: take it from the index's navigation.
  const index = await open('index.html');
  await index.locator('#tsd-nav-container a').first().waitFor({ state: 'attached' });
  const classPage = await index.evaluate(() =>
    [...document.querySelectorAll('#tsd-nav-container a')].find((a) => a.textContent.trim() === 'SocketPoll')?.getAttribute('href'),
  );
  await index.close();
  await check('the navigation links the SocketPoll class', () => assert.ok(classPage, 'no SocketPoll link in the navigation'));

  for (const [name, rel, heading, text] of [
    ['the index', 'index.html', 'socketpoll', 'Getting started'],
    ['the SocketPoll class page', classPage ?? 'classes/SocketPoll.html', 'SocketPoll', 'waitAsync'],
    ['the getting started guide', 'documents/Getting_started.html', 'Getting started', 'del() before close()'],
    ['the recipes page', 'documents/Recipes.html', 'Recipes', 'A serial device, or a pseudo-terminal'],
  ]) {
    await check(`${name} renders (${rel})`, async () => {
      const page = await open(rel);
      assert.match(await page.locator('h1').first().innerText(), new RegExp(heading));
      assert.ok((await page.locator('body').innerText()).includes(text), `${rel} does not show "${text}"`);
      assert.ok((await page.locator('.tsd-navigation a, #tsd-nav-container a').count()) > 5, `${rel}: no navigation`);
      await page.screenshot({ path: path.join(OUTPUT, `${path.basename(rel, '.html')}.png`), fullPage: false });
      await page.close();
    });
  }

  for (const term of ['SocketPoll', 'waitAsync']) {
    await check(`search finds ${term}`, async () => {
      const page = await open('index.html');
      await page.locator('#tsd-search-trigger').click();
      await page.locator('#tsd-search-input').fill(term);
      const results = page.locator('#tsd-search-results li a');
      await results.first().waitFor({ timeout: 10_000 });
      const texts = await results.allInnerTexts();
      assert.ok(texts.some((t) => t.includes(term)), `results for ${term}: ${JSON.stringify(texts)}`);
      await page.screenshot({ path: path.join(OUTPUT, `search-${term}.png`) });
      await page.close();
    });
  }

  await check('no console error and no failed request on the pages opened', () => {
    assert.deepEqual(errors, []);
    assert.deepEqual(notFound, []);
  });
  await check('no broken link between the pages of the site', () => {
    const { pages, broken } = brokenLinks();
    assert.ok(pages > 20, `only ${pages} pages`);
    assert.deepEqual(broken, []);
  });
} finally {
  await browser.close();
  server.close();
}
console.log(`docs-site: screenshots in ${path.relative(ROOT, OUTPUT)}/`);
if (failures.length) {
  console.log(`docs-site: ${failures.length} failed`);
  process.exit(1);
}
