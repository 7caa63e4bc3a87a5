// Caches the page and the WebAssembly verifier so the counter works with
// the network unplugged. The cache name carries the build's digest
// (scripts/build-counter-page.sh writes it), so a new build replaces the
// old files. The trust list and status lists are never cached here: they
// are kept, verified, in IndexedDB.
const CACHE = 'tongban-counter-67d78a7643763803';
const FILES = ['./', 'index.html', 'counter.css', 'counter.js', 'verifier.js', 'verifier_bg.wasm'];

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('tongban-counter-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  const scope = new URL(self.registration.scope);
  if (ev.request.method !== 'GET' || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const name = url.pathname.slice(scope.pathname.length);
  // config.json: the network first (the operator may change it), else the page's stored copy.
  if (name === 'config.json') return;
  // The page's own files: the cache first, so an unplugged counter loads.
  ev.respondWith(caches.match(ev.request, { ignoreSearch: true }).then((hit) => hit || fetch(ev.request)));
});
