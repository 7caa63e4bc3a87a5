// A verifier from npm asks tongban-wallet for a licence over OpenID4VP 1.0:
// @openid4vc/openid4vp 0.4.6 (pinned in package.json) creates the signed
// request object (client identifier prefix x509_hash, response mode
// direct_post.jwt) and parses and validates the encrypted response;
// @sd-jwt/sd-jwt-vc 0.19.0 verifies the presentation (issuer signature, KB-JWT
// nonce, aud checked here); jose 6.2.18 does the JOSE the library leaves to
// callbacks (ES256 signing with x5c, ECDH-ES decryption).
//
//   node oid4vp_verifier.mjs <leaf-cert.pem> <leaf-key.pem> <issuer-jwks-file> <vct> <claim>[,<claim>...]
//
// Serves request_uri and response_uri on 127.0.0.1 (a free port), prints one
// JSON line {"link": "openid4vp://…"} as soon as it listens, waits (at most
// 120 s) for one response, then prints one JSON line with the verified
// claims (or the error the wallet posted) and exits 0 when a presentation
// was verified or the wallet posted an error, 1 otherwise.
//
// Environment, not leniency: the endpoints are plain http on 127.0.0.1, as
// the wallet allows for loopback only. The request object's `aud` is set to
// https://self-issued.me/v2 (static discovery, §5.8): the library's default
// would be the request URI.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { Openid4vpVerifier } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/oauth2';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest } from '@sd-jwt/crypto-nodejs';
import * as jose from 'jose';

const [certFile, keyFile, jwksFile, vct, claimList] = process.argv.slice(2);
if (!certFile || !keyFile || !jwksFile || !vct || !claimList) {
  console.error('usage: node oid4vp_verifier.mjs <leaf-cert.pem> <leaf-key.pem> <issuer-jwks-file> <vct> <claim>[,<claim>...]');
  process.exit(2);
}
setGlobalConfig({ allowInsecureUrls: true });

const leaf = new crypto.X509Certificate(fs.readFileSync(certFile));
const leafDerB64 = leaf.raw.toString('base64');
const signingKey = await jose.importPKCS8(fs.readFileSync(keyFile, 'utf8'), 'ES256');
const issuerJwks = JSON.parse(fs.readFileSync(jwksFile, 'utf8'));
const claims = claimList.split(',');

const hash = (data, alg) => {
  if (alg !== 'sha-256') throw new Error(`unsupported hash ${alg}`);
  return new Uint8Array(crypto.createHash('sha256').update(data).digest());
};

// A fresh response encryption key for this transaction.
const { publicKey: encPublic, privateKey: encPrivate } = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
const encJwk = { ...(await jose.exportJWK(encPublic)), kid: 'enc-1', use: 'enc', alg: 'ECDH-ES' };

const callbacks = {
  hash,
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== 'x5c') throw new Error(`unexpected signer ${signer.method}`);
    const jwt = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ ...header, alg: 'ES256', x5c: signer.x5c })
      .sign(signingKey);
    return { jwt, signerJwk: await jose.exportJWK(leaf.publicKey) };
  },
  decryptJwe: async (jwe) => {
    try {
      const { plaintext, protectedHeader } = await jose.compactDecrypt(jwe, encPrivate, {
        keyManagementAlgorithms: ['ECDH-ES'],
        contentEncryptionAlgorithms: ['A128GCM', 'A256GCM'],
      });
      if (protectedHeader.kid !== encJwk.kid) return { decrypted: false };
      return { decrypted: true, decryptionJwk: encJwk, payload: new TextDecoder().decode(plaintext) };
    } catch {
      return { decrypted: false };
    }
  },
  encryptJwe: () => { throw new Error('no encrypted request objects'); },
  verifyJwt: () => { throw new Error('no signed responses'); },
};
const verifier = new Openid4vpVerifier({ callbacks });

const clientId = `x509_hash:${crypto.createHash('sha256').update(leaf.raw).digest('base64url')}`;
const nonce = crypto.randomBytes(16).toString('base64url');
const state = crypto.randomBytes(16).toString('base64url');

let finish;
const done = new Promise((resolve) => { finish = resolve; });
let requestPayload;

const readBody = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.on('data', (c) => {
    body += c;
    if (body.length > 1 << 20) reject(new Error('body too large'));
  });
  req.on('end', () => resolve(body));
});

const server = http.createServer(async (req, res) => {
  try {
    const base = `http://127.0.0.1:${server.address().port}`;
    if (req.url === '/request') {
      const form = new URLSearchParams(await readBody(req));
      const walletNonce = form.get('wallet_nonce') ?? undefined;
      const created = await verifier.createOpenId4vpAuthorizationRequest({
        authorizationRequestPayload: {
          response_type: 'vp_token',
          client_id: clientId,
          response_uri: `${base}/response`,
          response_mode: 'direct_post.jwt',
          nonce,
          state,
          ...(walletNonce ? { wallet_nonce: walletNonce } : {}),
          dcql_query: {
            credentials: [{
              id: 'licence',
              format: 'dc+sd-jwt',
              meta: { vct_values: [vct] },
              claims: claims.map((c) => ({ path: [c] })),
            }],
          },
          client_metadata: {
            jwks: { keys: [encJwk] },
            encrypted_response_enc_values_supported: ['A128GCM', 'A256GCM'],
            vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['EdDSA', 'ES256'], 'kb-jwt_alg_values': ['EdDSA', 'ES256'] } },
          },
        },
        jar: {
          requestUri: `${base}/request`,
          jwtSigner: { method: 'x5c', alg: 'ES256', x5c: [leafDerB64] },
          expiresInSeconds: 300,
          additionalJwtPayload: { aud: 'https://self-issued.me/v2' },
        },
        ...(walletNonce ? { wallet: { expectedNonce: walletNonce } } : {}),
      });
      requestPayload = created.authorizationRequestPayload;
      res.writeHead(200, { 'content-type': 'application/oauth-authz-req+jwt' });
      res.end(created.jar.authorizationRequestJwt);
      return;
    }
    if (req.url === '/response' && req.method === 'POST') {
      const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
      if (form.error) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
        finish({ ok: true, wallet_error: form.error, state_matches: form.state === state });
        return;
      }
      // The class passes its callbacks to createOpenId4vpAuthorizationRequest
      // but not to this method (0.4.6): they are given again here.
      const parsed = await verifier.parseOpenid4vpAuthorizationResponse({
        authorizationResponse: form,
        authorizationRequestPayload: requestPayload,
        callbacks,
      });
      const presentation = parsed.authorizationResponsePayload.vp_token.licence[0];
      const sdjwt = new SDJwtVcInstance({
        hasher: digest,
        hashAlg: 'sha-256',
        verifier: async (data, sig) => {
          const header = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8'));
          const jwk = (issuerJwks.keys ?? [issuerJwks]).find((k) => k.kid === header.kid);
          if (!jwk) throw new Error(`no issuer key ${header.kid}`);
          const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
          return crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
        },
        kbVerifier: (data, sig, payload) => {
          const key = crypto.createPublicKey({ key: payload.cnf.jwk, format: 'jwk' });
          return crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
        },
      });
      const verified = await sdjwt.verify(presentation, { keyBindingNonce: nonce, requiredClaimKeys: ['iss', 'vct'] });
      if (verified.kb?.payload?.aud !== clientId) throw new Error(`KB-JWT aud ${verified.kb?.payload?.aud} is not ${clientId}`);
      const disclosed = await sdjwt.getClaims(presentation);
      const missing = claims.filter((c) => !(c in disclosed));
      if (missing.length) throw new Error(`not disclosed: ${missing.join(', ')}`);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end('{}');
      finish({ ok: true, claims: disclosed, kb: verified.kb.payload, enc: JSON.parse(Buffer.from(form.response.split('.')[0], 'base64url')).enc });
      return;
    }
    res.writeHead(404);
    res.end();
  } catch (e) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_request', error_description: String(e.message ?? e) }));
    finish({ ok: false, error: String(e.message ?? e) });
  }
});

server.listen(0, '127.0.0.1', () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  const link = `openid4vp://?client_id=${encodeURIComponent(clientId)}&request_uri=${encodeURIComponent(`${base}/request`)}&request_uri_method=post`;
  console.log(JSON.stringify({ link, client_id: clientId }));
});
const timer = setTimeout(() => finish({ ok: false, error: 'no response within 120 s' }), 120_000);
const result = await done;
clearTimeout(timer);
console.log(JSON.stringify(result));
server.close();
process.exit(result.ok ? 0 : 1);
