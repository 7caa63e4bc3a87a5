// Drives @sd-jwt/sd-jwt-vc and @sd-jwt/jwt-status-list (pinned in
// package.json) for Tongban's interoperability tests. Ed25519 signing and
// verification use Node's own crypto (the peer library takes them as
// callbacks). Every command prints one JSON object.
//
//   node interop.mjs verify <presentation-file> <issuer-jwk-or-jwks-file> <aud> <nonce> <now|->
//   node interop.mjs make <now> <aud> <nonce>
//   node interop.mjs status <status-list-jwt-file> <idx>...
import crypto from 'node:crypto';
import fs from 'node:fs';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';

const verifierFor = (jwk) => {
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  return (data, sig) => crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
};
// An issuer's key file is one JWK, or a JWKS (tongban-issuer publishes
// /agencies/<id>/jwks.json). With a JWKS the key is the one whose kid the
// JWT's header names (the peer passes only the signing input, whose first
// part is that header); a JWT naming no kid, or an unknown one, fails.
const issuerVerifierFor = (jwkOrSet) => {
  if (!Array.isArray(jwkOrSet.keys)) return verifierFor(jwkOrSet);
  return (data, sig) => {
    const header = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8'));
    const jwk = jwkOrSet.keys.find((k) => k.kid !== undefined && k.kid === header.kid);
    if (!jwk) throw new Error(`no key with kid ${header.kid} in the issuer's JWKS`);
    return verifierFor(jwk)(data, sig);
  };
};
const signerFor = (key) => (data) => crypto.sign(null, Buffer.from(data), key).toString('base64url');

const [cmd, ...args] = process.argv.slice(2);

if (cmd === 'verify') {
  const [file, jwkFile, aud, nonce, now] = args;
  const presentation = fs.readFileSync(file, 'utf8').trim();
  const issuerJwk = JSON.parse(fs.readFileSync(jwkFile, 'utf8'));
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    // Also checks a status list token if the credential names one: the peer
    // fetches it from status.status_list.uri, checks its signature with
    // this verifier and refuses any status but 0 ("Status is not valid").
    verifier: issuerVerifierFor(issuerJwk),
    // The peer leaves the holder key to the caller: take it from cnf.jwk.
    kbVerifier: (data, sig, payload) => verifierFor(payload.cnf.jwk)(data, sig),
  });
  const result = await sdjwt.verify(presentation, {
    keyBindingNonce: nonce,
    // "-": the peer's own clock, read at each check. A time fixed before
    // the call would be a second behind a status list token the peer then
    // fetches from a running issuer (signed with iat = the fetch's second),
    // and the peer checks iat with no skew ("JWT is not yet valid").
    currentDate: now === '-' ? undefined : Number(now),
    requiredClaimKeys: ['iss', 'vct'],
  });
  if (result.kb?.payload?.aud !== aud) throw new Error(`KB-JWT aud ${result.kb?.payload?.aud} is not ${aud}`);
  const claims = await sdjwt.getClaims(presentation);
  // status: the entry the peer checked (null if the credential has none).
  console.log(JSON.stringify({ ok: true, claims, kb: result.kb?.payload, status: result.payload.status ?? null }));
} else if (cmd === 'make') {
  const [now, aud, nonce] = args;
  const issuer = crypto.generateKeyPairSync('ed25519');
  const holder = crypto.generateKeyPairSync('ed25519');
  const issuerJwk = { ...issuer.publicKey.export({ format: 'jwk' }), kid: 'peer-1' };
  const holderJwk = holder.publicKey.export({ format: 'jwk' });
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    signer: signerFor(issuer.privateKey),
    signAlg: 'EdDSA',
    kbSigner: signerFor(holder.privateKey),
    kbSignAlg: 'EdDSA',
  });
  const claims = {
    iss: 'https://peer.example/issuer',
    iat: Number(now) - 3600,
    exp: Number(now) + 86400,
    vct: 'urn:tongban:business-licence:1',
    cnf: { jwk: holderJwk },
    company_name: '嘉善互通测试有限公司',
    legal_representative: '赵六',
    establishment_date: '2020-01-02',
  };
  const credential = await sdjwt.issue(claims, { _sd: ['company_name', 'legal_representative', 'establishment_date'] }, { header: { kid: 'peer-1' } });
  const presentation = await sdjwt.present(credential, { company_name: true, establishment_date: true }, {
    kb: { payload: { iat: Number(now), aud, nonce } },
  });
  console.log(JSON.stringify({ issuer_jwk: issuerJwk, credential, presentation }));
} else if (cmd === 'status') {
  const [file, ...idx] = args;
  const list = getListFromStatusListJWT(fs.readFileSync(file, 'utf8').trim());
  console.log(JSON.stringify({ statuses: idx.map((i) => list.getStatus(Number(i))) }));
} else {
  console.error('usage: node interop.mjs verify|make|status …');
  process.exit(2);
}
