// The counter page: every check runs in the verifier compiled to
// WebAssembly (verifier.js / verifier_bg.wasm); this file only moves text
// between the camera, the scanner, IndexedDB, the network and the screen.
import init, { Counter, make_request, decode_frame, catalogue, cst } from './verifier.js';

const $ = (id) => document.getElementById(id);
const now = () => Date.now() / 1000;
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const bi = (zh, en) => `${esc(zh)} <span class="en">${esc(en)}</span>`;

// ---- IndexedDB: one object store of values by key ----
const DB = 'tongban-counter';
function db() {
  return new Promise((ok, fail) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('kv');
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}
async function idbGet(key) {
  const d = await db();
  return new Promise((ok, fail) => {
    const r = d.transaction('kv').objectStore('kv').get(key);
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}
async function idbPut(entries) {
  const d = await db();
  return new Promise((ok, fail) => {
    const t = d.transaction('kv', 'readwrite');
    for (const [k, v] of Object.entries(entries)) t.objectStore('kv').put(v, k);
    t.oncomplete = () => ok();
    t.onerror = () => fail(t.error);
  });
}

// ---- state ----
const state = { config: null, counter: null, request: null, settings: { stale_warn: false, status_max_age_secs: 86400 }, summary: null, syncError: null };
const settingsJson = () => JSON.stringify(state.settings);
window.tongbanCounter = state; // for the browser tests and the curious clerk
// Timing, for docs/performance.md: the camera's first frame and the verdict
// it led to (performance.now() milliseconds), and the verifier's time per
// presentation over `n` verifications of the same texts.
state.timing = { firstFrame: null, verdict: null };
state.bench = (texts, n) => {
  const json = JSON.stringify(texts);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) state.counter.verify(json, '', now(), settingsJson());
  return (performance.now() - t0) / n;
};

function wasmError(e) {
  try { return JSON.parse(e.message); } catch { return { code: 'page_error', message_zh: '页面出错', message_en: 'The page failed', detail: String(e && e.message || e) }; }
}
function notice(err) {
  const n = $('notice');
  if (!err) { n.hidden = true; return; }
  n.hidden = false;
  n.innerHTML = `${bi(err.message_zh, err.message_en)} <span class="code">[${esc(err.code)}]</span> <span class="small">${esc(err.detail)}</span>`;
}

// ---- the bundle chip: always visible, red when stale or missing ----
function ageText(s) {
  s = Math.max(0, Math.floor(s));
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}
// `v3 · 根 2 · 2/3 签署 sh-ops-1, js-ops-1`: the list's format version, the
// root of trust it was verified under, and which anchor keys signed it.
function signersText(t) {
  const who = t.signed_by.map((k) => k.kid ?? k.thumbprint.slice(0, 12)).join(', ');
  return `v${t.version} · 根 root ${t.root_sequence} · ${t.signed_by.length}/${t.threshold.n} 签署 signed (≥${t.threshold.k}): ${who}`;
}
function renderBundle() {
  const chip = $('bundle');
  if (state.counter) {
    try { state.summary = JSON.parse(state.counter.summary(now(), settingsJson())); } catch (e) { state.summary = null; }
  }
  const s = state.summary;
  if (!s) {
    chip.dataset.state = 'none';
    $('bundle-zh').textContent = '尚无信任包';
    $('bundle-en').textContent = 'No trust bundle';
    $('bundle-signers').textContent = '';
  } else {
    const age = ageText(s.age_secs);
    chip.dataset.state = s.stale ? 'stale' : 'fresh';
    chip.dataset.sequence = s.sequence;
    chip.dataset.ageSecs = s.age_secs;
    const t = s.trust_list;
    chip.dataset.signedBy = t.signed_by.map((k) => k.kid ?? k.thumbprint).join(',');
    chip.dataset.rootSequence = t.root_sequence;
    $('bundle-zh').textContent = `信任包 #${s.sequence} · 同步于${age}前${s.stale ? ' · 已过期' : ''}`;
    $('bundle-en').textContent = `Trust bundle #${s.sequence} · synced ${age} ago${s.stale ? ' · STALE' : ''}`;
    $('bundle-signers').textContent = signersText(t);
    chip.title = `${cst(s.created_at)}`;
  }
  $('net').textContent = navigator.onLine ? '在线 Online' : '离线 Offline';
  $('net').dataset.online = navigator.onLine;
}

async function adopt(answer) {
  const a = JSON.parse(answer);
  await idbPut({ bundle: a.files, held: a.held }); // held: the rollback floors {sequence, root_sequence}
  state.summary = a.summary;
  renderBundle();
}

// ---- sync: the same rules as `tongban-verify sync`, checked in wasm ----
async function sync() {
  if (!state.counter || !state.config?.trust_list_url) return;
  const chip = $('bundle');
  chip.dataset.syncing = 'true';
  try {
    const get = async (url) => {
      const r = await fetch(url, { cache: 'no-store' });
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return r.text();
    };
    const listUrl = new URL(state.config.trust_list_url, location.href).href;
    const list = await get(listUrl);
    // The roots of trust the list was signed under that this counter has
    // not followed yet, published beside it as root-<n>.json.
    const roots = [];
    for (const r of JSON.parse(state.counter.roots_needed(list, listUrl))) roots.push(await get(r.url));
    const rootsJson = JSON.stringify(roots);
    // The chain walked, the floors and the list's threshold of anchor
    // signatures checked before any URL the list names is followed.
    const urls = JSON.parse(state.counter.status_urls(list, rootsJson));
    const status = [];
    for (const u of urls) status.push(await get(u));
    await adopt(state.counter.assemble(list, rootsJson, JSON.stringify(status), now(), settingsJson()));
    state.syncError = null;
    notice(null);
  } catch (e) {
    state.syncError = e.message && e.message.startsWith('{') ? wasmError(e)
      : { code: 'sync_unreachable', message_zh: '同步失败，继续使用已有信任包', message_en: 'Sync failed; the bundle held is kept', detail: String(e.message || e) };
    notice(state.syncError);
  } finally {
    delete chip.dataset.syncing;
    chip.dataset.synced = String(Date.now());
  }
}

async function importFiles(fileList) {
  const files = {};
  for (const f of fileList) files[f.name] = await f.text();
  try {
    await adopt(state.counter.import_files(JSON.stringify(files), now(), settingsJson()));
    notice(null);
  } catch (e) { notice(wasmError(e)); }
}

// ---- scanning: wedge, camera (BarcodeDetector, else the wasm decoder) ----
function showParts(p) {
  const box = $('parts');
  if (p.state !== 'partial') { box.hidden = true; return; }
  box.hidden = false;
  $('parts-text').innerHTML = bi(`已扫描 ${p.have.length}/${p.of} 部分，请继续扫码`, `Part ${p.have.length} of ${p.of} scanned, scan the next`);
  $('parts-boxes').innerHTML = Array.from({ length: p.of }, (_, i) => `<span class="${p.have.includes(i + 1) ? 'have' : ''}">${i + 1}</span>`).join('');
}

function take(text) {
  if (!state.counter || !text) return;
  let p;
  try { p = JSON.parse(state.counter.scan(text)); } catch (e) { notice(wasmError(e)); return; }
  showParts(p);
  if (p.state === 'complete') verify(p.texts);
}

function verify(texts) {
  let out;
  try {
    out = JSON.parse(state.counter.verify(JSON.stringify(texts), state.request?.text ?? '', now(), settingsJson()));
  } catch (e) { notice(wasmError(e)); return; }
  state.last = out;
  showVerdict(out.view);
}

// The wedge keeps the focus, even under a verdict: a USB scanner types the
// next code and its Enter without anyone touching the page.
$('wedge').addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') { closeVerdict(); return; }
  if (ev.key !== 'Enter') return;
  ev.preventDefault();
  const t = ev.target.value.trim();
  $('verdict').hidden = true;
  ev.target.value = '';
  if (state.counter && !t.startsWith('TB1M:')) state.counter.reset_scan(); // a typed code is always checked again
  take(t);
});
$('wedge').addEventListener('paste', (ev) => {
  // A pasted block may hold several parts, one a line.
  const t = ev.clipboardData.getData('text');
  if (!t.includes('\n')) return;
  ev.preventDefault();
  if (state.counter) state.counter.reset_scan();
  for (const line of t.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) take(line);
});

let stream = null;
async function camera() {
  if (stream) { stopCamera(); return; }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment', width: { ideal: 1280 } }, audio: false });
  } catch (e) {
    notice({ code: 'camera_unavailable', message_zh: '无法打开摄像头', message_en: 'The camera cannot be opened', detail: String(e.message || e) });
    return;
  }
  if (state.counter) state.counter.reset_scan(); // a new camera session starts afresh
  state.timing = { firstFrame: null, verdict: null };
  const v = $('video');
  v.srcObject = stream;
  v.hidden = false;
  await v.play();
  $('camera').innerHTML = bi('关闭摄像头', 'Stop camera');
  const native = ('BarcodeDetector' in window) && !new URLSearchParams(location.search).has('wasm-decoder')
    && (await BarcodeDetector.getSupportedFormats()).includes('qr_code');
  const detector = native ? new BarcodeDetector({ formats: ['qr_code'] }) : null;
  $('decoder').textContent = native ? 'BarcodeDetector' : 'wasm QR decoder';
  $('decoder').dataset.decoder = native ? 'native' : 'wasm';
  const canvas = $('frame');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const tick = async () => {
    if (!stream) return;
    if (v.readyState >= 2 && $('verdict').hidden) {
      state.timing.firstFrame ??= performance.now();
      let texts = [];
      if (detector) {
        texts = (await detector.detect(v)).map((c) => c.rawValue);
      } else {
        canvas.width = v.videoWidth; canvas.height = v.videoHeight;
        ctx.drawImage(v, 0, 0);
        const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        const gray = new Uint8Array(canvas.width * canvas.height);
        for (let i = 0, j = 0; j < gray.length; i += 4, j++) gray[j] = (rgba[i] * 77 + rgba[i + 1] * 150 + rgba[i + 2] * 29) >> 8;
        try { texts = JSON.parse(decode_frame(gray, canvas.width, canvas.height)); } catch (e) { texts = []; }
      }
      for (const t of texts) take(t);
    }
    setTimeout(tick, 150);
  };
  tick();
}
function stopCamera() {
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
  $('video').hidden = true;
  $('camera').innerHTML = bi('打开摄像头', 'Start camera');
}
$('camera').addEventListener('click', camera);

// ---- the verdict: the CLI's boxed verdict, large ----
function showVerdict(v) {
  state.timing.verdict = performance.now();
  const el = $('verdict');
  el.className = v.accepted ? 'accepted' : 'rejected';
  el.dataset.verdict = v.accepted ? 'accepted' : 'rejected';
  el.dataset.code = v.rejection?.code ?? '';
  $('verdict-head').innerHTML = v.accepted ? `✔ 核验通过 <span class="en">ACCEPTED</span>` : `✘ 核验未通过 <span class="en">REJECTED</span>`;
  let h = '';
  if (v.rejection) {
    const r = v.rejection;
    h += `<div class="reason">${esc(r.message_zh)}<span class="en">${esc(r.message_en)}</span></div>`;
    h += `<table><tr><th>代码<span class="en">Code</span></th><td class="code">${esc(r.code)}</td></tr>`;
    if (r.violations.length) h += `<tr><th>不符合的字段<span class="en">Fields in breach</span></th><td>${r.violations.map(esc).join('<br>')}</td></tr>`;
    else h += `<tr><th>详情<span class="en">Detail</span></th><td class="small">${esc(r.detail)}</td></tr>`;
    h += '</table>';
  } else {
    h += '<table class="facts">';
    for (const f of v.facts) {
      const val = f.value_zh === f.value_en ? esc(f.value_zh) : `${esc(f.value_zh)}<span class="sub en">${esc(f.value_en)}</span>`;
      h += `<tr><th>${esc(f.label_zh)}<span class="en">${esc(f.label_en)}</span></th><td>${val}</td></tr>`;
    }
    h += `</table><h2>披露字段 <span class="en">Disclosed fields</span> (${v.fields.length})</h2><table class="fields">`;
    for (const f of v.fields) h += `<tr><th>${esc(f.label_zh)}<span class="en">${esc(f.label_en)}</span></th><td class="value">${esc(f.value)}</td></tr>`;
    h += '</table>';
  }
  for (const w of v.warnings) h += `<p class="warning">⚠ 警告 Warning: ${esc(w.message_zh)} ${esc(w.message_en)} [${esc(w.code)}]</p>`;
  const b = v.bundle;
  h += `<p class="meta">信任包 <span class="en">Trust bundle</span> #${b.sequence}, 同步于 <span class="en">synced</span> ${esc(b.created_at_text)} (${ageText(b.age_secs)} 前 <span class="en">ago</span>) · 核验时间 <span class="en">checked</span> ${esc(v.checked_at_text)}`;
  h += `<br>信任列表 <span class="en">Trust list</span> <span class="signers">${esc(signersText(b.trust_list))}</span>`;
  if (state.request) h += ` · 请求 <span class="en">request</span> ${esc(state.request.request.aud)}`;
  h += '</p><ul class="checks">';
  const mark = { passed: '✔', skipped: '–', failed: '✘', not_run: '·' };
  for (const c of v.checks) h += `<li class="${c.outcome}">${mark[c.outcome]} ${esc(c.label_zh)} <span class="en">${esc(c.label_en)}</span>${c.note ? ` <span class="small">(${esc(c.note)})</span>` : ''}</li>`;
  h += '</ul>';
  $('verdict-body').innerHTML = h;
  el.hidden = false;
  $('wedge').focus();
}
// The code just verified stays remembered: a camera still seeing it does
// not open its verdict again.
function closeVerdict() {
  $('verdict').hidden = true;
  $('wedge').focus();
}
$('next').addEventListener('click', closeVerdict);
$('print').addEventListener('click', () => window.print());

// ---- the counter's request ----
let types = [];
function fillTypes() {
  types = JSON.parse(catalogue());
  $('vct').innerHTML = types.map((t, i) => `<option value="${i}">${esc(t.name_zh)} ${esc(t.name_en)}</option>`).join('');
  fillClaims();
}
function fillClaims() {
  const t = types[Number($('vct').value)] || { claims: [] };
  $('claims').innerHTML = t.claims.map((c, i) => `<label><input type="checkbox" value="${esc(c.name)}" ${i < 3 ? 'checked' : ''}> ${esc(c.label_zh)} <span class="en">${esc(c.label_en)}</span></label>`).join('');
}
$('vct').addEventListener('change', fillClaims);
$('make-request').addEventListener('click', () => {
  const t = types[Number($('vct').value)];
  const claims = [...$('claims').querySelectorAll('input:checked')].map((c) => c.value);
  try {
    state.request = JSON.parse(make_request(JSON.stringify({ aud: state.config.audience, vct: t?.vct ?? null, claims, ttl_secs: Number($('ttl').value) }), now()));
  } catch (e) { notice(wasmError(e)); return; }
  notice(null);
  $('request-qr').innerHTML = state.request.svg;
  $('request-qr').dataset.text = state.request.text;
  $('request-meta').innerHTML = `${bi('请市民用钱包扫描此码', 'Citizen: scan this with your wallet')}<br>${bi('有效期至', 'valid until')} ${esc(state.request.expires_at_text)}`;
  $('request-form').hidden = true;
  $('request-shown').hidden = false;
  if (state.counter) state.counter.reset_scan();
  $('wedge').focus();
});
$('clear-request').addEventListener('click', () => {
  state.request = null;
  $('request-form').hidden = false;
  $('request-shown').hidden = true;
});

// ---- start ----
async function loadConfig() {
  try {
    const r = await fetch('config.json', { cache: 'no-cache' });
    if (r.ok) {
      const c = await r.json();
      await idbPut({ config: c });
      return c;
    }
  } catch { /* offline: the stored copy */ }
  return (await idbGet('config')) ?? null;
}

function setup() {
  const d = $('setup');
  $('setup-url').value = state.config?.trust_list_url ?? '';
  $('setup-aud').value = state.config?.audience ?? '';
  d.showModal();
  $('setup-form').addEventListener('submit', async () => {
    const f = $('setup-anchor').files[0];
    const anchors = f ? JSON.parse(await f.text()) : state.config?.anchors;
    const c = { trust_list_url: $('setup-url').value, audience: $('setup-aud').value, anchors };
    await idbPut({ config: c });
    location.reload();
  }, { once: true });
}

async function start() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('sw.js').catch(() => {});
  }
  await init();
  fillTypes();
  state.config = await loadConfig();
  const stored = await idbGet('settings');
  if (stored) state.settings = stored;
  if (!state.config?.anchors) { renderBundle(); setup(); return; }
  if (state.config.stale === 'warn' && !stored) state.settings.stale_warn = true;
  try { state.counter = new Counter(JSON.stringify(state.config.anchors)); } catch (e) { notice(wasmError(e)); setup(); return; }
  // The rollback floors: {sequence, root_sequence} (a bare number from an
  // older page is the list's sequence).
  const held = await idbGet('held');
  state.counter.set_held(JSON.stringify(held ?? null));
  const files = await idbGet('bundle');
  if (files) {
    try { state.counter.load_stored(JSON.stringify(files), now(), settingsJson()); } catch (e) { notice(wasmError(e)); }
  }
  renderBundle();
  setInterval(renderBundle, 30000);
  window.addEventListener('online', () => { renderBundle(); sync(); });
  window.addEventListener('offline', renderBundle);
  $('sync').addEventListener('click', sync);
  $('bundle-file').addEventListener('change', (ev) => importFiles(ev.target.files));
  document.body.dataset.ready = 'true';
  if (navigator.onLine) await sync();
  setInterval(() => navigator.onLine && sync(), 15 * 60 * 1000);
  document.body.dataset.synced = 'true';
}
start();
