// A wallet from npm answers a tongban-verifier-service presentation request
// over OpenID4VP 1.0: @openid4vc/openid4vp 0.4.6 (pinned in package.json)
// parses the openid4vp:// link, fetches and verifies the signed request
// object (x509_hash client identifier), builds the response and posts it
// (direct_post.jwt); @sd-jwt/sd-jwt-vc 0.19.0 makes the presentation with
// its KB-JWT; jose 6.2.18 does the JWE (the openid4vp library leaves JOSE
// to callbacks). This script only wires the callbacks.
//
//   node oid4vp_wallet.mjs <openid4vp-link> <credential-file> <ca-pem-file> [decline]
//
// <credential-file> is what oid4vci_receive.mjs wrote (the credential and
// the holder's private JWK). <ca-pem-file> is the receiving agency's CA: the
// request's leaf certificate must be signed by it, valid now, and not
// self-signed (HAIP 1.0). With "decline", the wallet posts access_denied.
// Prints one JSON object: the request it resolved and what the response
// endpoint answered.
//
// One setting is this test's environment, not leniency: the service runs on
// http://127.0.0.1, and the library refuses non-https URLs unless
// allowInsecureUrls is set.
//
// Two things the peer does that a stricter wallet would not, noted where
// they matter: its POST to request_uri (0.4.6, fetchJarRequestObject) sends
// the wallet metadata's members as form fields instead of `wallet_metadata`
// and never sends `wallet_nonce`; the service treats both as absent (they
// are OPTIONAL, §5.10). So this wallet does not ask for a wallet_nonce echo.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/oauth2';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import * as jose from 'jose';

const [link, credentialFile, caFile, mode] = process.argv.slice(2);
if (!link || !credentialFile || !caFile) {
  console.error('usage: node oid4vp_wallet.mjs <openid4vp-link> <credential-file> <ca-pem-file> [decline]');
  process.exit(2);
}
setGlobalConfig({ allowInsecureUrls: true });

const held = JSON.parse(fs.readFileSync(credentialFile, 'utf8'));
const { credential } = held;
const holderKey = crypto.createPrivateKey({ key: held.holder_private_jwk, format: 'jwk' });
const ca = new crypto.X509Certificate(fs.readFileSync(caFile));

const hash = (data, alg) => {
  const name = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' }[alg];
  if (!name) throw new Error(`unsupported hash ${alg}`);
  return new Uint8Array(crypto.createHash(name).update(data).digest());
};

// The request object's signature: the x5c leaf's key, the leaf signed by
// the agency's CA, valid now, not self-signed, and the CA not in x5c.
const verifyJwt = async (signer, { header, compact }) => {
  if (signer.method !== 'x5c') return { verified: false };
  if (header.typ !== 'oauth-authz-req+jwt') throw new Error(`request object typ ${header.typ}`);
  const leaf = new crypto.X509Certificate(Buffer.from(signer.x5c[0], 'base64'));
  const now = new Date();
  const chainOk = leaf.checkIssued(ca) && leaf.verify(ca.publicKey)
    && new Date(leaf.validFrom) <= now && now <= new Date(leaf.validTo)
    && !leaf.checkIssued(leaf)
    && !signer.x5c.some((c) => new crypto.X509Certificate(Buffer.from(c, 'base64')).fingerprint256 === ca.fingerprint256);
  if (!chainOk) return { verified: false };
  const key = await jose.importX509(leaf.toString(), header.alg);
  try {
    await jose.compactVerify(compact, key);
  } catch {
    return { verified: false };
  }
  return { verified: true, signerJwk: await jose.exportJWK(leaf.publicKey) };
};

const getX509CertificateMetadata = (certificate) => {
  const cert = new crypto.X509Certificate(Buffer.from(certificate, 'base64'));
  const names = (cert.subjectAltName ?? '').split(', ');
  return {
    sanDnsNames: names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)),
    sanUriNames: names.filter((n) => n.startsWith('URI:')).map((n) => n.slice(4)),
  };
};

const encryptJwe = async (encryptor, data) => {
  const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg);
  const header = { alg: encryptor.alg, enc: encryptor.enc, kid: encryptor.publicJwk.kid };
  if (encryptor.apu) header.apu = encryptor.apu;
  if (encryptor.apv) header.apv = encryptor.apv;
  const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(data))
    .setProtectedHeader(header)
    .encrypt(key);
  return { jwe, encryptionJwk: encryptor.publicJwk };
};

const client = new Openid4vpClient({
  callbacks: {
    hash,
    verifyJwt,
    getX509CertificateMetadata,
    encryptJwe,
    decryptJwe: () => { throw new Error('no encrypted request objects'); },
    signJwt: () => { throw new Error('the wallet signs nothing but the KB-JWT'); },
    generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
    fetch,
  },
});

const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: link });
const resolved = await client.resolveOpenId4vpAuthorizationRequest({
  authorizationRequestPayload: parsed.params,
  wallet: {
    metadata: {
      vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['EdDSA'], 'kb-jwt_alg_values': ['EdDSA'] } },
      authorization_encryption_alg_values_supported: ['ECDH-ES'],
      authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
    },
  },
});
const request = resolved.authorizationRequestPayload;
if (resolved.client.prefix !== 'x509_hash') throw new Error(`client id prefix ${resolved.client.prefix}`);
const query = resolved.dcql?.query;
if (!query) throw new Error('the request carries no DCQL query');

const jarm = {
  encryption: { nonce: crypto.randomBytes(16).toString('base64url') },
  serverMetadata: {
    authorization_signing_alg_values_supported: [],
    authorization_encryption_alg_values_supported: ['ECDH-ES'],
    // HAIP: a wallet supporting both SHOULD use A256GCM.
    authorization_encryption_enc_values_supported: ['A256GCM', 'A128GCM'],
  },
};

let submitted;
if (mode === 'decline') {
  // An error response is not encrypted (§8.3.1 allows it); the library has
  // no helper for it, so it is posted as the form §8.2 shows.
  const body = new URLSearchParams({ error: 'access_denied', error_description: 'the citizen declined', state: request.state ?? '' });
  const response = await fetch(request.response_uri, { method: 'POST', body, redirect: 'manual' });
  submitted = { response };
} else {
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    kbSigner: (data) => crypto.sign(null, Buffer.from(data), holderKey).toString('base64url'),
    kbSignAlg: 'EdDSA',
  });
  const vpToken = {};
  for (const cq of query.credentials) {
    // The frame of the claims asked for (top-level and nested keys).
    const frame = {};
    for (const c of cq.claims ?? []) {
      let node = frame;
      c.path.forEach((k, i) => {
        if (typeof k !== 'string') throw new Error('this test wallet discloses object members only');
        if (i === c.path.length - 1) node[k] = true;
        else node = node[k] = node[k] ?? {};
      });
    }
    const presentation = await sdjwt.present(credential, frame, {
      kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: request.client_id, nonce: request.nonce } },
    });
    vpToken[cq.id] = [presentation];
  }
  const made = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: { vp_token: vpToken },
    jarm,
  });
  submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: made.authorizationResponsePayload,
    jarm: made.jarm ? { responseJwt: made.jarm.responseJwt } : undefined,
  });
}
const status = submitted.response.status;
const text = await submitted.response.text();
let answer;
try { answer = JSON.parse(text); } catch { answer = text; }
console.log(JSON.stringify({
  ok: status === 200,
  status,
  answer,
  client_id: request.client_id,
  response_mode: request.response_mode,
  query_ids: query.credentials.map((c) => c.id),
}));
process.exit(status === 200 ? 0 : 1);
