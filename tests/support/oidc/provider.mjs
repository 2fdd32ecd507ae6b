// A real OpenID Connect provider for the sign-in tests: oidc-provider (OpenID certified), on
// loopback only, with one static client and the people in ACCOUNTS_FILE. Its built-in
// development login and consent pages stand in for the trust's (any password is accepted; the
// login names the account). Started by tests/support/oidc_provider.py; never for real use.
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(readFileSync(process.env.ACCOUNTS_FILE, 'utf8'));

const configuration = {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      client_name: 'Waiting list validation (tests)',
      redirect_uris: JSON.parse(process.env.REDIRECT_URIS),
      post_logout_redirect_uris: JSON.parse(process.env.POST_LOGOUT_REDIRECT_URIS),
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // Entra ID puts app roles in the ID token as "roles"; CIS2 gives nhsid_nrbac_roles from
  // userinfo. Both are asked for by scope here.
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email'],
    roles: ['roles'],
    nationalrbacaccess: ['nhsid_nrbac_roles'],
  },
  findAccount: async (_ctx, id) => {
    if (!Object.hasOwn(accounts, id)) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) };
  },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['loopback-test-provider-only'] },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
};

const provider = new Provider(issuer, configuration);
provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});
