// Times @sd-jwt/sd-jwt-vc (pinned in package.json) verifying one
// presentation, for the peers' row of docs/performance.md. Ed25519 through
// Node's own crypto, as interop.mjs does; the same checks as its `verify`
// (issuer signature, disclosures, KB-JWT signature, nonce, sd_hash, aud).
// The key objects are made once, outside the timed part.
//
//   node bench_verify.mjs <presentation-file> <issuer-jwk-file> <aud> <nonce> <now> [seconds]
//
// Prints one JSON object: the median over batches of the time per
// verification, in µs, and the number of verifications.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest } from '@sd-jwt/crypto-nodejs';

const [file, jwkFile, aud, nonce, now, seconds = '5'] = process.argv.slice(2);
const presentation = fs.readFileSync(file, 'utf8').trim();
const issuerKey = crypto.createPublicKey({ key: JSON.parse(fs.readFileSync(jwkFile, 'utf8')), format: 'jwk' });
const holderKeys = new Map();
const holderKey = (jwk) => {
  const id = jwk.x;
  if (!holderKeys.has(id)) holderKeys.set(id, crypto.createPublicKey({ key: jwk, format: 'jwk' }));
  return holderKeys.get(id);
};
const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  hashAlg: 'sha-256',
  verifier: (data, sig) => crypto.verify(null, Buffer.from(data), issuerKey, Buffer.from(sig, 'base64url')),
  kbVerifier: (data, sig, payload) =>
    crypto.verify(null, Buffer.from(data), holderKey(payload.cnf.jwk), Buffer.from(sig, 'base64url')),
});

const once = async () => {
  const result = await sdjwt.verify(presentation, {
    keyBindingNonce: nonce,
    currentDate: Number(now),
    requiredClaimKeys: ['iss', 'vct'],
  });
  if (result.kb?.payload?.aud !== aud) throw new Error('aud');
  return result;
};

const first = await once();
if (first.payload.company_name === undefined) throw new Error('company_name not disclosed');
const batch = 200;
const perBatch = [];
const end = performance.now() + 1000 * Number(seconds);
// Warm-up: one second.
for (const stop = performance.now() + 1000; performance.now() < stop; ) await once();
while (performance.now() < end) {
  const t0 = performance.now();
  for (let i = 0; i < batch; i++) await once();
  perBatch.push(((performance.now() - t0) * 1000) / batch);
}
perBatch.sort((a, b) => a - b);
console.log(JSON.stringify({
  peer: '@sd-jwt/sd-jwt-vc',
  node: process.version,
  median_us: Number(perBatch[perBatch.length >> 1].toFixed(1)),
  min_us: Number(perBatch[0].toFixed(1)),
  verifications: perBatch.length * batch,
}));
