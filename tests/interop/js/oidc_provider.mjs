// A real OpenID Connect provider for the issuer's citizen login in tests:
// oidc-provider (panva), pinned in package.json, with one confidential
// client (the issuer's agency) and an interaction that logs in a fixed
// test citizen at once — the headless stand-in for a province's unified
// login. Code flow, PKCE, ID tokens signed RS256 with keys made at start.
//
//   node oidc_provider.mjs <port> <client_id> <client_secret> <redirect_uri> <subject>
//
// Prints {"ready": true, "issuer": "http://127.0.0.1:<port>"} once
// listening, then serves until killed.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri, subject] = process.argv.slice(2);
if (!subject) {
  console.error('usage: node oidc_provider.mjs <port> <client_id> <client_secret> <redirect_uri> <subject>');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id }; } };
  },
  cookies: { keys: ['tongban-test-cookie-key'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

// The interaction: log in the test citizen and grant what is asked.
provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!m) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: subject } };
  } else {
    const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  }
  const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.redirect(to);
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(JSON.stringify({ ready: true, issuer }));
});
