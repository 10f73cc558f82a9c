// End to end: signing keys from the studio's Keys page, a route that
// requires an access token, tokens minted in the studio that pass or are
// refused, and the token inspector's verdict on a tampered token.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, startServer, waitFor } from './harness.mjs';

/** The token with one character of its payload changed, chosen so that the
 * payload still decodes to a JSON object: only the signature can tell. */
function tamper(token) {
  const [h, p, s] = token.split('.');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (let k = 0; k < p.length; k++) {
    const i = (Math.floor(p.length / 2) + k) % p.length;
    for (const c of 'AbQx') {
      if (c === p[i]) continue;
      const q = p.slice(0, i) + c + p.slice(i + 1);
      const bytes = Buffer.from(q, 'base64url');
      if (bytes.toString('base64url') !== q) continue; // not canonical base64url
      try {
        const claims = JSON.parse(utf8.decode(bytes));
        if (claims && typeof claims === 'object' && !Array.isArray(claims)) return `${h}.${q}.${s}`;
      } catch {
        /* try another character */
      }
    }
  }
  throw new Error('no one-character change keeps the payload JSON');
}

describe('keys page', () => {
  let server;
  let browser;
  let page;
  let kid;
  let adminToken;
  let userToken;
  const open = async (id) => {
    await page.getByTestId(`nav-${id}`).click();
    await page.getByTestId(`${id}-page`).waitFor({ timeout: 15_000 });
  };
  const secret = (token) => fetch(server.url + '/secret', token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  const mintedJti = async () => ((await page.getByTestId('minted-jti').count()) ? page.getByTestId('minted-jti').textContent() : '');
  const mint = async (roles) => {
    await page.getByTestId('mint-roles').fill(roles);
    const before = await mintedJti();
    await page.getByTestId('mint').click();
    await waitFor(async () => {
      const jti = await mintedJti();
      return jti && jti !== before;
    }, 10_000, 'a newly minted token');
    return page.getByTestId('minted-token').inputValue();
  };
  const inspect = async (token) => {
    await page.getByTestId('inspect-input').fill(token);
    await page.getByTestId('inspect-token').click();
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 10_000 });
    return verdict;
  };

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
    page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    await page.goto(server.login);
    await open('keys');
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  it('generates an EdDSA key, promotes it, and publishes it in the JWKS', async () => {
    assert.match(await page.getByTestId('key-store').textContent(), /covet_data\/keys\.json/);
    // A new project keeps its key-encryption key beside the store: the page says so.
    assert.match(await page.getByTestId('store-warning').textContent(), /keys\.kek/);
    assert.equal(await page.getByTestId('generate-alg').inputValue(), 'EdDSA');
    await page.getByTestId('generate-key').click();
    const standby = page.locator('[data-testid=key-row][data-state=standby]');
    await standby.waitFor({ timeout: 10_000 });
    kid = await standby.getAttribute('data-kid');
    assert.match(kid, /^[A-Za-z0-9_-]+$/);
    assert.match(await page.getByTestId('keys-notice').textContent(), new RegExp(`Generated EdDSA key ${kid}`));

    await standby.getByTestId('key-promote').click();
    const row = page.locator(`[data-testid=key-row][data-kid="${kid}"][data-state=current]`);
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.getByTestId('key-state').textContent(), 'current');
    assert.deepEqual(await row.locator('button').allTextContents(), ['Retire', 'Revoke']);
    await page.locator('[data-testid=jwks-preview]', { hasText: kid }).waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('signer').textContent(), new RegExp(`${kid} \\(EdDSA\\) signs new tokens`));

    const jwks = await (await fetch(server.url + '/.well-known/jwks.json')).json();
    assert.ok(
      jwks.keys.some((k) => k.kid === kid && k.alg === 'EdDSA'),
      `the public JWKS lists ${kid}: ${JSON.stringify(jwks)}`,
    );
  });

  it('mints tokens with roles, and refuses bad extra claims before sending', async () => {
    assert.equal(await page.getByTestId('mint-sub').inputValue(), 'u1');
    assert.equal(await page.getByTestId('mint-ttl').inputValue(), '5m');
    assert.equal(await page.getByTestId('mint-aud').getAttribute('placeholder'), 'covet-api');
    await page.getByTestId('mint-claims').fill('{tenant: "acme"}');
    assert.match(await page.getByTestId('mint-error-claims').textContent(), /not valid JSON/);
    assert.equal(await page.getByTestId('mint').isDisabled(), true);
    await page.getByTestId('mint-claims').fill('{"tenant": "acme"}');

    adminToken = await mint('admin');
    assert.equal(adminToken.split('.').length, 3);
    assert.equal(await page.getByTestId('minted-kid').textContent(), kid);
    userToken = await mint('user');
    assert.notEqual(userToken, adminToken);
    // The key's count went up by the two tokens.
    await page.locator(`[data-testid=key-row][data-kid="${kid}"] [data-testid=key-signed]`, { hasText: '2' }).waitFor({ timeout: 10_000 });
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/keys.png', fullPage: true });
  });

  it('adds GET /secret with policy.auth in the Routes editor, and Try it sends a minted token', async () => {
    await open('routes');
    await page.getByTestId('add-route').click();
    await page.getByTestId('field-id').fill('secret');
    await page.getByTestId('field-path').fill('/secret');
    await page.getByTestId('field-body').fill('the secret');
    await page.getByTestId('field-authMode').selectOption('required');
    await page.getByTestId('field-authRoles').fill('admin');
    await page.locator('[data-testid=diff-preview]', { hasText: '"auth"' }).waitFor();
    await page.locator('[data-testid=apply-route]:not([disabled])').waitFor({ timeout: 10_000 });
    await page.getByTestId('apply-route').click();
    await page.locator('[data-testid=routes-notice]', { hasText: 'Added GET /secret' }).waitFor({ timeout: 10_000 });

    const config = await (await fetch(server.url + '/_covet/api/config/routes', { headers: { Authorization: `Bearer ${server.token}` } })).json();
    assert.deepEqual(config.find((r) => r.id === 'secret')?.policy?.auth, { required: true, roles: ['admin'] });

    await page.locator('[data-route-id=secret] [data-testid=try-route]').click();
    await page.getByTestId('try-send').click();
    await page.locator('[data-testid=try-status]', { hasText: '401' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('try-use-token').click();
    assert.equal(await page.getByTestId('try-token-roles').inputValue(), 'admin', "the route's roles are the default");
    await page.getByTestId('try-token-mint').click();
    await page.getByTestId('try-auth-header').waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('try-headers').inputValue(), /^Authorization: Bearer [\w-]+\.[\w-]+\.[\w-]+$/m);
    await page.getByTestId('try-send').click();
    await page.locator('[data-testid=try-status]', { hasText: '200' }).waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('try-body').textContent(), /the secret/);
    await page.screenshot({ path: 'artifacts/keys-try.png' });
    await page.getByTestId('try-remove-token').click();
    assert.doesNotMatch(await page.getByTestId('try-headers').inputValue(), /Authorization/);
  });

  it('answers /secret: 401 with a Bearer challenge without a token, 200 with admin, 403 with user', async () => {
    const anonymous = await secret();
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
    const admin = await secret(adminToken);
    assert.equal(admin.status, 200);
    assert.equal(await admin.text(), 'the secret');
    assert.equal((await secret(userToken)).status, 403);
  });

  it('the inspector accepts the admin token and rejects it tampered, with the reason', async () => {
    await open('keys');
    const valid = await inspect(adminToken);
    assert.equal(await valid.textContent(), 'Valid — accepted as an access token');
    assert.match(await page.getByTestId('inspect-claims').textContent(), /"roles": \[\s*"admin"\s*\]/);

    const rejected = await inspect(tamper(adminToken));
    const text = await rejected.textContent();
    assert.match(text, /^Rejected: /);
    assert.match(text, /signature invalid/);
    assert.equal(await page.getByTestId('revoke-token').count(), 0, 'no revoke button for a rejected token');
    await page.screenshot({ path: 'artifacts/keys-inspector.png', fullPage: true });
  });

  it('revokes one token from the inspector', async () => {
    await inspect(userToken);
    await page.getByTestId('revoke-token').click();
    await page.locator('[data-testid=verdict]', { hasText: 'Rejected: revoked' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('token-revoked').waitFor();
    assert.equal((await secret(userToken)).status, 401);
    assert.equal((await secret(adminToken)).status, 200, 'other tokens are still accepted');
  });

  it('sets a rotation schedule and clears it', async () => {
    await page.getByTestId('rotation-scheduled').check();
    await page.getByTestId('rotation-every').fill('30m');
    assert.match(await page.getByTestId('rotation-error-every').textContent(), /at least 1h/);
    assert.equal(await page.getByTestId('rotation-save').isDisabled(), true);
    await page.getByTestId('rotation-every').fill('24h');
    await page.getByTestId('rotation-alg').selectOption('ES256');
    await page.getByTestId('rotation-save').click();
    await page.locator('[data-testid=keys-notice]', { hasText: 'Keys rotate every 24h with ES256' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid=rotation-status]', { hasText: 'ES256' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('rotation-next').waitFor();
    const auth = await (await fetch(server.url + '/_covet/api/config/auth', { headers: { Authorization: `Bearer ${server.token}` } })).json();
    assert.equal(auth.rotation?.alg, 'ES256');

    await page.getByTestId('rotation-manual').check();
    await page.getByTestId('rotation-save').click();
    await page.locator('[data-testid=rotation-status]', { hasText: 'Manual' }).waitFor({ timeout: 10_000 });
  });

  it('revokes the key after a confirmation that says what stops working', async () => {
    const row = page.locator(`[data-testid=key-row][data-kid="${kid}"]`);
    await row.getByTestId('key-revoke').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    const signed = Number(await row.getByTestId('key-signed').textContent());
    assert.ok(signed >= 3, `the key signed the tokens minted here, got ${signed}`);
    assert.match(
      await dialog.textContent(),
      new RegExp(`Every token signed by ${kid} is refused at once, including ${signed} it signed since start; it leaves the JWKS\\. Nothing will sign new tokens until you promote another key\\.`),
    );
    await page.screenshot({ path: 'artifacts/keys-revoke.png' });
    await page.getByTestId('confirm-ok').click();
    await page.locator(`[data-testid=key-row][data-kid="${kid}"][data-state=revoked]`).waitFor({ timeout: 10_000 });
    assert.equal(await row.locator('button').count(), 0, 'a revoked key has no moves');
    await waitFor(async () => !(await page.getByTestId('jwks-preview').textContent()).includes(kid), 10_000, 'the kid to leave the JWKS preview');
    const jwks = await (await fetch(server.url + '/.well-known/jwks.json', { cache: 'no-store' })).json();
    assert.ok(!jwks.keys.some((k) => k.kid === kid), 'a revoked key leaves the public JWKS');
    assert.equal((await secret(adminToken)).status, 401, 'tokens of a revoked key are refused');
  });
});
