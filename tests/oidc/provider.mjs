// A real OpenID Connect provider for the sign-on tests: panva's certified oidc-provider
// with its development sign-in pages (any password; the login names the account).
// Usage: node provider.mjs <port> ; env OIDC_CLIENT (JSON client), OIDC_ACCOUNTS (JSON
// {account: claims}). Prints "ready" when it listens.
import Provider from "oidc-provider";

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || "{}");

const provider = new Provider(issuer, {
  clients: [JSON.parse(process.env.OIDC_CLIENT)],
  pkce: { required: () => true },
  claims: { openid: ["sub"], profile: ["name", "preferred_username", "roles", "tenant"] },
  conformIdTokenClaims: false,  // the scope's claims go in the ID token too, as many providers do
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["omniroute-test-cookie-key"] },
  async findAccount(ctx, id) {
    if (!(id in accounts)) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...accounts[id] }; } };
  },
});
provider.listen(port, "127.0.0.1", () => console.log("ready"));
