// A wallet from npm receives a credential from tongban-issuer over
// OpenID4VCI 1.0 with the authorization code flow HAIP 1.0 requires:
// @openid4vc/openid4vci and @openid4vc/oauth2 0.4.6 (pinned in
// package.json) push the authorization request (PAR) with PKCE S256 and a
// DPoP proof, exchange the code with DPoP (answering use_dpop_nonce), and
// request the credential with the DPoP-bound token. The citizen's login at
// the agency's OpenID provider is driven by browser.mjs (a headless
// browser following redirects until the wallet's redirect URI).
//
//   node oid4vci_auth_code.mjs <credential-offer-uri> <output-file>
//
// The offer carries the authorization_code grant with issuer_state. The
// DPoP key is a fresh P-256 key (ES256), the holder key a fresh Ed25519
// key (EdDSA). <output-file> receives the credential, the holder's JWKs
// and what the client saw (token_type, the PKCE method, the request_uri).
// The issuer runs on http://127.0.0.1 in the tests, hence allowInsecureUrls.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Openid4vciClient, setGlobalConfig } from '@openid4vc/openid4vci';
import { clientAuthenticationNone } from '@openid4vc/oauth2';
import { follow } from './browser.mjs';

const [offerUri, outFile] = process.argv.slice(2);
if (!offerUri || !outFile) {
  console.error('usage: node oid4vci_auth_code.mjs <credential-offer-uri> <output-file>');
  process.exit(2);
}
setGlobalConfig({ allowInsecureUrls: true });

const clientId = 'npm-openid4vci-wallet';
// Never served: the headless browser stops when a redirect goes there.
const redirectUri = 'https://wallet.example/callback';

const holder = crypto.generateKeyPairSync('ed25519');
const holderPublicJwk = holder.publicKey.export({ format: 'jwk' });
const dpopKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const dpopPublicJwk = dpopKey.publicKey.export({ format: 'jwk' });

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const seenDpop = [];
const signJwt = async (signer, { header, payload }) => {
  if (signer.method !== 'jwk') throw new Error(`unexpected signer ${JSON.stringify(signer)}`);
  const input = `${b64url(header)}.${b64url(payload)}`;
  let sig;
  if (signer.alg === 'ES256' && signer.publicJwk.x === dpopPublicJwk.x) {
    sig = crypto.sign('sha256', Buffer.from(input), { key: dpopKey.privateKey, dsaEncoding: 'ieee-p1363' });
    seenDpop.push({ htu: payload.htu, nonce: Boolean(payload.nonce), ath: Boolean(payload.ath) });
  } else if (signer.alg === 'EdDSA' && signer.publicJwk.x === holderPublicJwk.x) {
    sig = crypto.sign(null, Buffer.from(input), holder.privateKey);
  } else {
    throw new Error(`unexpected signer ${JSON.stringify(signer)}`);
  }
  return { jwt: `${input}.${sig.toString('base64url')}`, signerJwk: signer.publicJwk };
};
const hash = (data, alg) => {
  const name = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' }[alg];
  if (!name) throw new Error(`unsupported hash ${alg}`);
  return new Uint8Array(crypto.createHash(name).update(data).digest());
};

const client = new Openid4vciClient({
  callbacks: {
    fetch,
    generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
    hash,
    signJwt,
    clientAuthentication: clientAuthenticationNone({ clientId }),
  },
});

const credentialOffer = await client.resolveCredentialOffer(offerUri);
const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
const credentialConfigurationId = credentialOffer.credential_configuration_ids[0];
const scope = issuerMetadata.credentialIssuer.credential_configurations_supported[credentialConfigurationId].scope;
const dpopSigner = { method: 'jwk', alg: 'ES256', publicJwk: dpopPublicJwk };

// PAR (with PKCE and DPoP), then the authorization URL.
const auth = await client.initiateAuthorization({
  credentialOffer,
  issuerMetadata,
  clientId,
  redirectUri,
  scope,
  dpop: { signer: dpopSigner },
});
if (auth.authorizationFlow !== 'Oauth2Redirect') throw new Error(`unexpected flow ${auth.authorizationFlow}`);
const requestUri = new URL(auth.authorizationRequestUrl).searchParams.get('request_uri');
if (!requestUri) throw new Error(`the authorization URL is not a pushed request's: ${auth.authorizationRequestUrl}`);

// The citizen logs in (headless), and the browser comes back.
const { url: back } = await follow(auth.authorizationRequestUrl, { stopAt: redirectUri });
const response = client.parseAndVerifyAuthorizationResponseRedirectUrl({
  url: back,
  authorizationServerMetadata: issuerMetadata.authorizationServers[0],
});
if (!response.code) throw new Error(`no code: ${back}`);

const { accessTokenResponse, dpop } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
  credentialOffer,
  issuerMetadata,
  authorizationCode: response.code,
  pkceCodeVerifier: auth.pkce.codeVerifier,
  redirectUri,
  dpop: { signer: dpopSigner },
});

const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
const { jwt } = await client.createCredentialRequestJwtProof({
  issuerMetadata,
  credentialConfigurationId,
  nonce,
  signer: { method: 'jwk', alg: 'EdDSA', publicJwk: holderPublicJwk },
});
const { credentialResponse } = await client.retrieveCredentials({
  issuerMetadata,
  credentialConfigurationId,
  accessToken: accessTokenResponse.access_token,
  proofs: { jwt: [jwt] },
  dpop,
});
const credentials = credentialResponse.credentials ?? [];
if (credentials.length !== 1) throw new Error(`expected one credential, got ${JSON.stringify(credentialResponse)}`);

const result = {
  credential_issuer: credentialOffer.credential_issuer,
  credential_configuration_id: credentialConfigurationId,
  token_type: accessTokenResponse.token_type,
  pkce_method: auth.pkce?.codeChallengeMethod,
  request_uri: requestUri,
  iss_in_response: response.iss,
  dpop_proofs: seenDpop,
  credential: credentials[0].credential,
  holder_public_jwk: holderPublicJwk,
};
fs.writeFileSync(outFile, JSON.stringify(result, null, 2));
console.log(JSON.stringify({ ok: true, token_type: result.token_type, pkce_method: result.pkce_method }));
