// A real OpenID Connect provider (the certified `oidc-provider` package) for the SSO tests.
//
//   node oidc_provider.mjs CONFIG.json     prints "ready <issuer>" when listening on 127.0.0.1
//
// CONFIG: {"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris",
//          "accounts": {"<login>": {claims...}}}
// Any password logs in a known login (the package's development login form). For the tests
// of refused tokens, POST /__mode?m=aud|iss|exp|sig|nonce makes the token endpoint hand out an
// ID token with that one thing wrong (re-signed with the provider's own key, except `sig`).
import { readFileSync } from 'node:fs';
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
const { privateKey: otherKey } = await jose.generateKeyPair('RS256', { extractable: true });

const server = http.createServer();
await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    post_logout_redirect_uris: config.post_logout_redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['test-only-cookie-key'] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'],
    nip: ['nip'], groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'nip', 'groups'],
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    const claims = config.accounts[id];
    return { accountId: id, async claims() { return { sub: id, ...(claims || {}) }; } };
  },
});

let mode = '';
provider.use(async (ctx, next) => {
  if (ctx.path === '/__mode') {
    mode = ctx.query.m || '';
    ctx.body = { mode };
    return;
  }
  await next();
  if (ctx.path === '/token' && mode && ctx.body && ctx.body.id_token) {
    const payload = jose.decodeJwt(ctx.body.id_token);
    const now = Math.floor(Date.now() / 1000);
    let key = privateKey;
    if (mode === 'aud') payload.aud = 'some-other-application';
    if (mode === 'iss') payload.iss = 'http://127.0.0.1:1/not-our-provider';
    if (mode === 'exp') { payload.iat = now - 7200; payload.exp = now - 3600; }
    if (mode === 'nonce') payload.nonce = 'replayed-nonce';
    if (mode === 'sig') key = otherKey;
    ctx.body.id_token = await new jose.SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(key);
  }
});

server.on('request', provider.callback());
process.stdout.write(`ready ${issuer}\n`);
process.on('SIGTERM', () => { server.close(); process.exit(0); });
