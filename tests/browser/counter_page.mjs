// Drives the counter's browser page in the system's headless Chromium.
//
//   node counter_page.mjs PAGE_DIR FIXTURE_DIR SCREENSHOT_DIR
//
// Serves PAGE_DIR at /counter/ (a plain static deployment) and the
// fixtures (trust lists, status lists, config.json) beside it, then runs
// the clerk's day: sync, a typed scan, a multi-part scan, a tampered
// presentation, the counter's own request answered by the wallet (the
// answer comes from the Rust test on standard input), the fake camera, a
// revocation after a refresh, the network cut, a stale bundle.
// Every step prints one JSON line; the last is {"done": true}.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const [pageDir, fixDir, shotDir] = process.argv.slice(2);
const fix = (n) => fs.readFileSync(path.join(fixDir, n), 'utf8');
const types = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const served = {};

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  let body = null;
  let type = 'text/plain';
  if (url.pathname === '/counter/config.json') { body = fix('config.json'); type = types['.json']; }
  else if (url.pathname.startsWith('/counter/')) {
    const name = url.pathname.slice('/counter/'.length) || 'index.html';
    const file = path.join(pageDir, path.basename(name));
    if (fs.existsSync(file)) { body = fs.readFileSync(file); type = types[path.extname(file)] || 'application/octet-stream'; }
  } else if (served[url.pathname] !== undefined) body = served[url.pathname];
  if (body === null) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
  res.end(body);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;
say({ base });

// The caller writes the fixtures for this origin, then says "ready".
const lines = readline.createInterface({ input: process.stdin });
const answers = lines[Symbol.asyncIterator]();
await answers.next();
served['/trust-list.jwt'] = fix('trust-list-1.jwt');
served['/status/1'] = fix('status-valid.jwt');
function say(o) { process.stdout.write(JSON.stringify(o) + '\n'); }
function check(cond, what, extra) {
  if (!cond) { say({ failed: what, ...extra }); throw new Error(what); }
  say({ ok: what, ...extra });
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 960 },
  permissions: ['camera'],
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${path.join(fixDir, 'camera.y4m')}`],
});
let failed = false;
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') say({ console: m.text() }); });
  page.on('pageerror', (e) => say({ pageerror: String(e) }));

  const verdict = async () => {
    await page.waitForSelector('#verdict:not([hidden]), #notice:not([hidden])', { timeout: 20000 });
    if (await page.isVisible('#notice')) throw new Error(`notice instead of a verdict: ${await page.innerText('#notice')}`);
    return page.evaluate(() => ({ verdict: document.getElementById('verdict').dataset.verdict, code: document.getElementById('verdict').dataset.code, text: document.getElementById('verdict').innerText }));
  };
  const next = async () => { await page.click('#next'); await page.waitForSelector('#verdict', { state: 'hidden' }); };
  const type = async (text) => { await page.fill('#wedge', text); await page.press('#wedge', 'Enter'); };
  const chip = () => page.evaluate(() => ({ ...document.getElementById('bundle').dataset, text: document.getElementById('bundle').innerText }));

  // 1. First load, online: the page syncs the bundle.
  let t0 = Date.now();
  await page.goto(`${base}/counter/`);
  await page.waitForSelector('body[data-synced="true"]', { timeout: 30000 });
  let c = await chip();
  check(c.state === 'fresh' && c.sequence === '1', 'synced bundle #1 on first load', { chip: c.text, ms: Date.now() - t0 });

  // 2. A typed (USB scanner) scan.
  await type(fix('single.txt').trim());
  let v = await verdict();
  check(v.verdict === 'accepted' && v.text.includes('苏州市吴江区市场监督管理局') && v.text.includes('苏州吴江通办示范科技有限公司') && v.text.includes('Disclosed fields (4)'), 'typed scan accepted', { text: v.text.slice(0, 400) });
  await page.screenshot({ path: path.join(shotDir, 'counter-fixture-accepted.png') });
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: path.join(shotDir, 'counter-print-record.png') });
  await page.emulateMedia({ media: 'screen' });
  await next();

  // 3. A multi-part presentation, one part at a time, with progress.
  const parts = fix('parts.txt').trim().split('\n');
  await type(parts[1]);
  const progress = await page.innerText('#parts-text');
  check(progress.includes(`1/${parts.length}`), 'multi-part progress shown', { progress });
  for (const p of [parts[0], ...parts.slice(2)]) await type(p);
  v = await verdict();
  check(v.verdict === 'accepted', 'multi-part presentation accepted', { parts: parts.length });
  await next();

  // 4. A tampered presentation.
  await type(fix('tampered.txt').trim());
  v = await verdict();
  check(v.verdict === 'rejected' && v.code !== '', 'tampered presentation rejected', { code: v.code });
  await page.screenshot({ path: path.join(shotDir, 'counter-fixture-rejected.png') });
  await next();

  // 5. The counter's own request, answered by the wallet.
  await page.click('#make-request');
  await page.waitForSelector('#request-qr svg');
  const request = await page.getAttribute('#request-qr', 'data-text');
  check(request.startsWith('TBR1:'), 'request QR shown', { chars: request.length });
  await page.screenshot({ path: path.join(shotDir, 'counter-request.png') });
  say({ need: 'answer', request });
  const answer = (await answers.next()).value.trim();
  await type(answer);
  v = await verdict();
  check(v.verdict === 'accepted' && v.text.includes('holder\'s signature verified'), 'answer to the request accepted');
  await next();
  await type(fix('single.txt').trim());
  v = await verdict();
  check(v.verdict === 'rejected' && v.code.startsWith('kb_'), 'a presentation made for another counter is rejected', { code: v.code });
  await next();
  await page.click('#clear-request');

  // 6. The camera (Chromium's fake device playing a video of the QR code).
  t0 = Date.now();
  await page.click('#camera');
  v = await verdict();
  const decoder = await page.getAttribute('#decoder', 'data-decoder');
  check(v.verdict === 'accepted', 'camera scan accepted', { decoder, ms_to_verdict: Date.now() - t0 });
  await next();
  await page.click('#camera');

  // 7. A revocation reaches the counter with the next sync.
  served['/trust-list.jwt'] = fix('trust-list-2.jwt');
  served['/status/1'] = fix('status-revoked.jwt');
  await page.click('#sync');
  await page.waitForFunction(() => document.getElementById('bundle').dataset.sequence === '2', null, { timeout: 20000 });
  await type(fix('revoked.txt').trim());
  v = await verdict();
  check(v.verdict === 'rejected' && v.code === 'status_revoked', 'revoked after refresh', { code: v.code });
  await next();

  // 8. A rollback to list #1 is refused and #2 kept.
  served['/trust-list.jwt'] = fix('trust-list-1.jwt');
  await page.click('#sync');
  await page.waitForSelector('#notice:not([hidden])');
  const note = await page.innerText('#notice');
  c = await chip();
  check(note.includes('trust_list_rollback') && c.sequence === '2', 'rollback refused, bundle #2 kept', { note });

  // 9. The network cut: the page reloads from the service worker and verifies.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  c = await chip();
  check(c.sequence === '2' && c.text.includes('同步于'), 'offline reload keeps bundle and shows its age', { chip: c.text });
  await type(fix('single.txt').trim());
  v = await verdict();
  check(v.verdict === 'accepted', 'verified offline');
  await page.screenshot({ path: path.join(shotDir, 'counter-fixture-offline.png') });
  await next();

  // 10. Two days later, still offline: the bundle is stale, shown red, and the stale policy rejects.
  await page.clock.setFixedTime(new Date(Date.now() + 2 * 86400 * 1000));
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  c = await chip();
  check(c.state === 'stale', 'stale bundle shown', { chip: c.text });
  await type(fix('single.txt').trim());
  v = await verdict();
  check(v.verdict === 'rejected' && v.code === 'status_stale', 'stale bundle rejects under the default policy', { code: v.code });
  await page.screenshot({ path: path.join(shotDir, 'counter-stale.png') });
} catch (e) {
  failed = true;
  say({ error: String(e && e.stack || e) });
} finally {
  await context.close();
  server.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  say({ done: !failed });
  process.exit(failed ? 1 : 0);
}
