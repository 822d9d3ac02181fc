// A real OpenID Connect provider for the browser tests: panva's oidc-provider (an
// OpenID-certified implementation, pinned in package.json), configured like ProConnect
// for Harmonie: authorisation code flow, PKCE required, RS256 ID tokens from a fresh key
// published at jwks_uri, ProConnect's one-claim scopes (email, given_name, usual_name,
// uid), RP-initiated logout. Accounts come from accounts.json; a French login form
// checks their password; consent is implied (first-party client, as at ProConnect).
//
//   node tests/oidc/provider.mjs --port 9400 --redirect-uri http://localhost:8081/oidc/callback/ \
//     --post-logout-redirect-uri http://localhost:8081/compte/connexion/ \
//     [--client-id harmonie] [--client-secret ...] [--accounts tests/oidc/accounts.json] \
//     [--id-token-ttl 600] [--session-ttl 3600] [--clock-skew 0]
//
// --clock-skew S runs the provider's clock S seconds late: with a TTL shorter than S the
// tokens it issues have already expired when they arrive (the "expired token" test).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
    'client-id': { type: 'string', default: 'harmonie' },
    'client-secret': { type: 'string', default: 'secret-de-test-harmonie-oidc-0123456789' },
    accounts: { type: 'string', default: join(here, 'accounts.json') },
    'id-token-ttl': { type: 'string', default: '600' },
    'session-ttl': { type: 'string', default: '3600' },
    'clock-skew': { type: 'string', default: '0' },
  },
});
if (!args.port) {
  console.error('usage: node tests/oidc/provider.mjs --port N --redirect-uri URL');
  process.exit(2);
}

const skewMs = Number(args['clock-skew']) * 1000;
if (skewMs) {
  const realNow = Date.now;
  Date.now = () => realNow() - skewMs;
}
// Imported after the clock is set: the provider reads Date.now() for every timestamp.
const { default: Provider } = await import('oidc-provider');

const accounts = JSON.parse(readFileSync(args.accounts, 'utf8'));
const bySub = new Map(accounts.map((account) => [account.sub, account]));
const byLogin = new Map(accounts.map((account) => [account.login, account]));
const CLAIMS = ['sub', 'email', 'given_name', 'usual_name', 'uid'];

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

const issuer = `http://${args.host}:${args.port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: args['redirect-uri'],
    post_logout_redirect_uris: args['post-logout-redirect-uri'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // mozilla-django-oidc sends the secret in the body (ProConnect accepts it too).
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'given_name', 'usual_name', 'uid'],
  claims: {
    openid: ['sub'],
    email: ['email'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
    uid: ['uid'],
  },
  ttl: {
    IdToken: Number(args['id-token-ttl']),
    AccessToken: Number(args['id-token-ttl']),
    Session: Number(args['session-ttl']),
    Grant: Number(args['session-ttl']),
    Interaction: 600,
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource(ctx, form) {
        ctx.body = page('Déconnexion du fournisseur d\'identité', `${form}
          <p>Voulez-vous vous déconnecter du fournisseur d'identité ?</p>
          <button type="submit" form="op.logoutForm" name="logout" value="yes">Oui, me déconnecter</button>
          <button type="submit" form="op.logoutForm">Non, rester connecté</button>`);
      },
      postLogoutSuccessSource(ctx) {
        ctx.body = page('Déconnecté', '<p>Vous êtes déconnecté du fournisseur d\'identité.</p>');
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // First-party client: the grant is implied, no consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (grant) return grant;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email given_name usual_name uid');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const account = bySub.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return Object.fromEntries(CLAIMS.filter((c) => c in account).map((c) => [c, account[c]]));
      },
    };
  },
});

async function formBody(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return new URLSearchParams(raw);
}

const loginForm = (uid, error = '') => page('Fournisseur d\'identité de test', `
  ${error ? `<p role="alert" data-testid="provider-error">${escape(error)}</p>` : ''}
  <form method="post" action="/interaction/${escape(uid)}/login">
    <label for="login">Identifiant</label> <input id="login" name="login" autocomplete="username">
    <label for="password">Mot de passe</label>
    <input id="password" name="password" type="password" autocomplete="current-password">
    <button type="submit" id="provider-submit">Se connecter</button>
  </form>
  <p><a href="/interaction/${escape(uid)}/abort">Annuler</a></p>`);

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)(\/login|\/abort)?$/);
  if (!match) return next();
  const [, uid, action] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction inconnue');
  if (action === '/abort') {
    await provider.interactionFinished(ctx.req, ctx.res, {
      error: 'access_denied', error_description: 'Connexion annulée',
    }, { mergeWithLastSubmission: false });
    return undefined;
  }
  if (action === '/login' && ctx.method === 'POST') {
    const body = await formBody(ctx.req);
    const account = byLogin.get(body.get('login') || '');
    if (!account || account.password !== body.get('password')) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginForm(uid, 'Identifiant ou mot de passe incorrect.');
      return undefined;
    }
    await provider.interactionFinished(ctx.req, ctx.res, {
      login: { accountId: account.sub },
    }, { mergeWithLastSubmission: false });
    return undefined;
  }
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = loginForm(uid);
  return undefined;
});

provider.on('server_error', (ctx, error) => console.error('server_error', error));
const server = provider.listen(Number(args.port), args.host, () => {
  console.log(`oidc-provider prêt : ${issuer}/.well-known/openid-configuration`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
