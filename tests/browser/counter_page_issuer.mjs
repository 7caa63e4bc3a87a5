// Drives the counter's browser page against a real issuer and wallet (the
// Rust test tests/tests/counter_page_issuer.rs runs the issuer, the
// operators' commands and the wallet, and answers this script's needs).
//
//   node counter_page_issuer.mjs PAGE_DIR SERVED_DIR SCREENSHOT_DIR
//
// Serves PAGE_DIR at /counter/ (plain static files), config.json,
// trust-list.json and root-<n>.json from SERVED_DIR (read at every
// request: the operators publish there), and passes every other path to
// the issuer (a reverse proxy). SERVED_DIR/camera.y4m is the fake camera.
// Every step prints one JSON line; the last is {"done": true}.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

const [pageDir, servedDir, shotDir] = process.argv.slice(2);
const types = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
let issuer = null;

function say(o) { process.stdout.write(JSON.stringify(o) + '\n'); }
function check(cond, what, extra) {
  if (!cond) { say({ failed: what, ...extra }); throw new Error(what); }
  say({ ok: what, ...extra });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const send = (file, type) => {
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
    res.end(fs.readFileSync(file));
  };
  if (url.pathname.startsWith('/counter/')) {
    const name = path.basename(url.pathname.slice('/counter/'.length) || 'index.html');
    const file = name === 'config.json' ? path.join(servedDir, name) : path.join(pageDir, name);
    if (fs.existsSync(file)) return send(file, types[path.extname(file)] || 'application/octet-stream');
    res.writeHead(404); return res.end();
  }
  if (/^\/(trust-list|root-[0-9]+)\.json$/.test(url.pathname)) {
    const file = path.join(servedDir, url.pathname.slice(1));
    if (fs.existsSync(file)) return send(file, 'application/json');
    res.writeHead(404); return res.end();
  }
  // Everything else is the issuer's.
  const up = http.request(`${issuer}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', () => { res.writeHead(502); res.end(); });
  req.pipe(up);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;
say({ base });

const input = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const read = async () => JSON.parse((await input.next()).value);
issuer = (await read()).issuer;
await read(); // {"ready": true}: the zone is published, the wallet holds its licences
const need = async (what, extra) => { say({ need: what, ...extra }); return read(); };

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 1000 },
  permissions: ['camera'],
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${path.join(servedDir, 'camera.y4m')}`],
});
let failed = false;
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') say({ console: m.text() }); });
  page.on('pageerror', (e) => say({ pageerror: String(e) }));

  const verdict = async () => {
    await page.waitForSelector('#verdict:not([hidden]), #notice:not([hidden])', { timeout: 30000 });
    if (await page.isVisible('#notice')) throw new Error(`notice instead of a verdict: ${await page.innerText('#notice')}`);
    return page.evaluate(() => ({ verdict: document.getElementById('verdict').dataset.verdict, code: document.getElementById('verdict').dataset.code, text: document.getElementById('verdict').innerText }));
  };
  const next = async () => { await page.click('#next'); await page.waitForSelector('#verdict', { state: 'hidden' }); };
  const type = async (text) => { await page.fill('#wedge', text); await page.press('#wedge', 'Enter'); };
  const chip = () => page.evaluate(() => ({ ...document.getElementById('bundle').dataset, text: document.getElementById('bundle').innerText }));
  const sync = async (sequence) => {
    await page.click('#sync');
    await page.waitForFunction((s) => document.getElementById('bundle').dataset.sequence === s && !document.getElementById('bundle').dataset.syncing, String(sequence), { timeout: 30000 });
  };
  // One camera session: first frame to verdict, as the page timed it.
  const cameraVerdict = async () => {
    await page.click('#camera');
    const v = await verdict();
    const t = await page.evaluate(() => window.tongbanCounter.timing);
    const decoder = await page.getAttribute('#decoder', 'data-decoder');
    return { v, ms: t.firstFrame === null ? null : Math.round(t.verdict - t.firstFrame), decoder };
  };
  const stopCamera = async () => { if (await page.isVisible('#video')) await page.click('#camera'); };

  // 1. First load: the pinned root (root 1, 2 of 3) and the list signed by
  //    two operators.
  await page.goto(`${base}/counter/`);
  await page.waitForSelector('body[data-synced="true"]', { timeout: 30000 });
  let c = await chip();
  const types_ = await page.$$eval('#vct option', (o) => o.length);
  check(c.state === 'fresh' && c.sequence === '1' && c.rootSequence === '1' && c.signedBy === 'sh-ops-1,zj-ops-1' && c.text.includes('2/3'),
    'synced the 2-of-3 list under the pinned root', { chip: c.text, catalogue_types: types_ });
  check(types_ === 8, 'the catalogue loads in the browser (every schema pattern compiles)', { types: types_ });

  // 2. The counter's request, answered by the wallet's QR code on the camera.
  await page.click('#make-request');
  await page.waitForSelector('#request-qr svg');
  const request = await page.getAttribute('#request-qr', 'data-text');
  const answer = await need('answer', { request });
  let cam = await cameraVerdict();
  check(cam.v.verdict === 'accepted' && cam.v.text.includes('holder\'s signature verified') && cam.v.text.includes('sh-ops-1, zj-ops-1'),
    'the wallet\'s answer to the request, through the camera, accepted', { ms_first_frame_to_verdict: cam.ms, decoder: cam.decoder });
  const timings = { single: cam.ms };
  // Tall enough for the whole verdict, down to the trust list line.
  await page.setViewportSize({ width: 1280, height: 1560 });
  await page.screenshot({ path: path.join(shotDir, 'counter-verdict-accepted.png') });
  await page.setViewportSize({ width: 1280, height: 1000 });
  await next();
  await stopCamera();
  await page.click('#clear-request');

  // 3. The wallet's multi-part presentation: several codes, one after the other.
  const multi = await need('multipart');
  cam = await cameraVerdict();
  check(cam.v.verdict === 'accepted' && cam.v.text.includes('Disclosed fields (3)'),
    'the wallet\'s multi-part presentation, through the camera, accepted', { codes: multi.codes, ms_first_frame_to_verdict: cam.ms });
  timings.multipart = cam.ms;
  await page.screenshot({ path: path.join(shotDir, 'counter-verdict-multipart.png') });
  await next();
  await stopCamera();

  // 4. A tampered presentation.
  await type(multi.tampered);
  let v = await verdict();
  check(v.verdict === 'rejected' && v.code === 'signature_invalid', 'tampered presentation rejected', { code: v.code });
  await next();

  // 5. The verifier's time per presentation in this browser, over many
  //    runs of the same presentation (the native twin reads the same files).
  const n = 200;
  const perPresentation = await page.evaluate(([t, n]) => { window.tongbanCounter.bench([t], 5); return window.tongbanCounter.bench([t], n); }, [multi.transport, n]);
  const perSingle = await page.evaluate(([t, n]) => { window.tongbanCounter.bench([t], 5); return window.tongbanCounter.bench([t], n); }, [answer.transport, n]);
  const stored = await page.evaluate(() => new Promise((ok) => {
    const r = indexedDB.open('tongban-counter', 1);
    r.onsuccess = () => { const g = r.result.transaction('kv').objectStore('kv').get('bundle'); g.onsuccess = () => ok(g.result); };
  }));
  const config = JSON.parse(fs.readFileSync(path.join(servedDir, 'config.json'), 'utf8'));
  say({ perf: {
    n, now: Date.now() / 1000,
    browser: (await context.browser()?.version()) ?? 'chromium',
    ms_per_presentation: { multipart: perPresentation, single: perSingle },
    ms_first_frame_to_verdict: timings,
    presentations: { multipart: multi.transport, single: answer.transport },
    pinned: config.anchors, bundle: stored,
  } });

  // 6. Root rotation: root 2 fetched beside the list, whose signature by
  //    Anhui's operator only counts under root 2.
  await need('rotate');
  await sync(2);
  c = await chip();
  check(c.rootSequence === '2' && c.signedBy === 'js-ops-1,ah-ops-1', 'root 2 followed, list signed by an operator only root 2 names', { chip: c.text });

  // 7. The agency revokes the first licence; the next sync reads the
  //    issuer's status list and the page refuses it.
  const revoked = await need('revoke');
  await page.click('#sync');
  await page.waitForFunction(() => !document.getElementById('bundle').dataset.syncing && document.getElementById('notice').hidden, null, { timeout: 30000 });
  await type(revoked.transport);
  v = await verdict();
  check(v.verdict === 'rejected' && v.code === 'status_revoked', 'revoked after a refresh from the issuer\'s status list', { code: v.code });
  await page.screenshot({ path: path.join(shotDir, 'counter-verdict-rejected.png') });
  await next();

  // 8. The network cut: the page reloads from its service worker, keeps
  //    the bundle (root 2 followed offline from the pinned root 1) and
  //    verifies the multi-part presentation's text, typed.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  c = await chip();
  check(c.sequence === '2' && c.rootSequence === '2' && c.text.includes('同步于'), 'offline reload keeps the bundle and shows its age', { chip: c.text });
  await type(multi.transport);
  v = await verdict();
  check(v.verdict === 'accepted', 'verified offline');
  await page.screenshot({ path: path.join(shotDir, 'counter-offline.png') });
  await next();
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
