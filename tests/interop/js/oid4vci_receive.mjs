// A wallet from npm receives a credential from tongban-issuer over
// OpenID4VCI 1.0, pre-authorized code flow: @openid4vc/openid4vci and
// @openid4vc/oauth2 0.4.6 (pinned in package.json) drive every request;
// this script only supplies the callbacks the library leaves to its caller
// (fetch, randomness, hashing, signing), all from Node's own crypto.
//
//   node oid4vci_receive.mjs <credential-offer-uri> <tx_code|-> <output-file>
//
// The holder key is a fresh Ed25519 key and the key proof is signed EdDSA.
// <output-file> receives one JSON object: the credential exactly as the
// credential endpoint returned it, the holder's private and public JWK, and
// what the client resolved (issuer, configuration id, the token response's
// fields). A summary is printed to stdout as one JSON object.
//
// No workaround is needed for tongban-issuer; two settings are this test's
// environment, not leniency:
// - the issuer runs on http://127.0.0.1 in the tests, and the library
//   refuses non-https URLs unless allowInsecureUrls is set;
// - the library does not do JWE, so the agency must not require encrypted
//   credential responses (the demo agency does not).
import crypto from 'node:crypto';
import fs from 'node:fs';
import {
  Openid4vciClient,
  setGlobalConfig,
} from '@openid4vc/openid4vci';
import {
  clientAuthenticationAnonymous,
  preAuthorizedCodeGrantIdentifier,
} from '@openid4vc/oauth2';

const [offerUri, txCodeArg, outFile] = process.argv.slice(2);
if (!offerUri || !txCodeArg || !outFile) {
  console.error('usage: node oid4vci_receive.mjs <credential-offer-uri> <tx_code|-> <output-file>');
  process.exit(2);
}
const txCode = txCodeArg === '-' ? undefined : txCodeArg;

setGlobalConfig({ allowInsecureUrls: true });

const holder = crypto.generateKeyPairSync('ed25519');
const holderPublicJwk = holder.publicKey.export({ format: 'jwk' });
const holderPrivateJwk = holder.privateKey.export({ format: 'jwk' });

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

// The library asks for a JWT signed by the signer it was given; only the
// holder's own key is ever used here.
const signJwt = async (signer, { header, payload }) => {
  if (signer.method !== 'jwk' || signer.alg !== 'EdDSA') {
    throw new Error(`unexpected signer ${JSON.stringify(signer)}`);
  }
  if (signer.publicJwk.x !== holderPublicJwk.x) throw new Error('signer is not the holder key');
  const input = `${b64url(header)}.${b64url(payload)}`;
  const sig = crypto.sign(null, Buffer.from(input), holder.privateKey).toString('base64url');
  return { jwt: `${input}.${sig}`, signerJwk: signer.publicJwk };
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
    clientAuthentication: clientAuthenticationAnonymous(),
  },
});

const credentialOffer = await client.resolveCredentialOffer(offerUri);
const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
const credentialConfigurationId = credentialOffer.credential_configuration_ids[0];
const grant = credentialOffer.grants?.[preAuthorizedCodeGrantIdentifier];
if (!grant) throw new Error('the offer has no pre-authorized code grant');

const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
  credentialOffer,
  issuerMetadata,
  txCode,
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
});

const credentials = credentialResponse.credentials ?? [];
if (credentials.length !== 1) throw new Error(`expected one credential, got ${JSON.stringify(credentialResponse)}`);
const credential = credentials[0].credential;

const result = {
  credential_issuer: credentialOffer.credential_issuer,
  credential_configuration_id: credentialConfigurationId,
  issuer_metadata_version: issuerMetadata.originalDraftVersion,
  tx_code_requested: Boolean(grant.tx_code),
  token_type: accessTokenResponse.token_type,
  proof_alg: 'EdDSA',
  credential,
  holder_public_jwk: holderPublicJwk,
  holder_private_jwk: holderPrivateJwk,
};
fs.writeFileSync(outFile, JSON.stringify(result, null, 2));
console.log(JSON.stringify({
  ok: true,
  credential_issuer: result.credential_issuer,
  credential_configuration_id: credentialConfigurationId,
  issuer_metadata_version: result.issuer_metadata_version,
}));
