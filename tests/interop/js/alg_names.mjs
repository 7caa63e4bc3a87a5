// Which JWS algorithm names the pinned npm peers read (docs/interop.md):
// Tongban's presentation (issuer JWT and KB-JWT) checked by jose 6.2.18
// alone, and by @sd-jwt/sd-jwt-vc 0.19.0 with jose as its verifier
// callback (the library hands the signing input and signature to the
// callback and leaves the algorithm to it; it refuses only "none").
// Prints one JSON object: {"jose": {...}, "sd_jwt_vc": {...}}, each
// {"ok": true, "alg"} or {"ok": false, "error"}.
//
//   node alg_names.mjs <presentation-file> <issuer-jwk-file> <aud> <nonce>
import fs from 'node:fs';
import * as jose from 'jose';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest } from '@sd-jwt/crypto-nodejs';

const [file, jwkFile, aud, nonce] = process.argv.slice(2);
const presentation = fs.readFileSync(file, 'utf8').trim();
const issuerJwk = JSON.parse(fs.readFileSync(jwkFile, 'utf8'));
const parts = presentation.split('~');
const header = (jws) => JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString('utf8'));
const payload = (jws) => JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'));
const holderJwk = payload(parts[0]).cnf.jwk;

// jose checks the header's alg against the key (importJWK with that alg).
const joseVerify = async (jws, jwk) => {
  const key = await jose.importJWK(jwk, header(jws).alg);
  const r = await jose.compactVerify(jws, key);
  return r.protectedHeader.alg;
};
const outcome = async (f) => {
  try {
    return { ok: true, alg: await f() };
  } catch (e) {
    return { ok: false, error: `${e.code ?? e.name}: ${e.message}` };
  }
};

const joseResult = await outcome(async () => {
  const alg = await joseVerify(parts[0], issuerJwk);
  await joseVerify(parts[parts.length - 1], holderJwk);
  return alg;
});
const viaJose = (jwk) => async (data, sig) => {
  await joseVerify(`${data}.${sig}`, jwk);
  return true;
};
const sdJwtVcResult = await outcome(async () => {
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    verifier: viaJose(issuerJwk),
    kbVerifier: viaJose(holderJwk),
  });
  const r = await sdjwt.verify(presentation, { keyBindingNonce: nonce, requiredClaimKeys: ['iss', 'vct'] });
  if (r.kb?.payload?.aud !== aud) throw new Error(`KB-JWT aud ${r.kb?.payload?.aud} is not ${aud}`);
  return r.header?.alg ?? header(parts[0]).alg;
});
console.log(JSON.stringify({ jose: joseResult, sd_jwt_vc: sdJwtVcResult }));
