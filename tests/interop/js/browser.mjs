// A headless browser for the authorization code flow's tests: follows
// redirects with GET, keeping cookies (as a browser would across the
// issuer and the OpenID provider), until a page that is not a redirect —
// or, with a stop prefix, until the next URL starts with it (a redirect
// URI nobody serves, whose query the caller reads).
//
//   node browser.mjs <url>            prints {"url", "status"} of the last page
//
// Imported by oid4vci_auth_code.mjs as follow(url, {stopAt}).
import { pathToFileURL } from 'node:url';

export async function follow(start, { stopAt } = {}) {
  const jar = new Map();
  let url = start;
  for (let hop = 0; hop < 20; hop++) {
    if (stopAt && url.startsWith(stopAt)) return { url, status: null };
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))
        || attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now());
      if (gone || value === '') jar.delete(name); else jar.set(name, value);
    }
    if ([301, 302, 303, 307, 308].includes(res.status)) {
      const location = res.headers.get('location');
      await res.arrayBuffer();
      if (!location) throw new Error(`redirect without Location from ${url}`);
      url = new URL(location, url).toString();
      continue;
    }
    const body = await res.text();
    return { url, status: res.status, body };
  }
  throw new Error(`more than 20 redirects from ${start}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url, status } = await follow(process.argv[2]);
  console.log(JSON.stringify({ url, status }));
}
