// The device authorization grant (RFC 8628) end to end, driven by openid-client as a CLI would:
// the device asks at /device_authorization, a person signs in through the stand-in Okta, enters
// the user code at /device and approves or denies, and the device's polls get the Passport (with
// an ID token for openid and a refresh token where the client may have one) naming the approval.
// Also: slow_down, expiry, the wrong-code limit, a code claimed by someone else, CSRF, a restart.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { drive, hiddenFields, startWithOkta, type Jar } from './support/authorize.ts';
import { cookieJar } from './support/browser.ts';
import { browserTest, launchChromium, signInInBrowser } from './support/chromium.ts';
import { basicAuth, discover, postForm } from './support/clients.ts';
import { startConsulate, type TestConsulate } from './support/consulate.ts';
import type { Upstream } from './support/upstreams.ts';

const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
const agentSecret = 'device-agent-secret-0123456789abcdefghijklmnopqrstu';
const userCodeShape = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;
const attemptsAllowed = 3;
const codeTtl = 900;

const files = {
  'consulate.yaml': `${readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8')}\ndevice:\n  code_ttl_seconds: ${codeTtl}\n  interval_seconds: 1\n  user_code_attempts: ${attemptsAllowed}\n`,
  // A public CLI: names itself with client_id; may refresh.
  'clients/device-cli.yaml': [
    'client_id: device-cli',
    'name: Device CLI',
    'token_endpoint_auth_method: none',
    `grant_types: [${deviceGrant}, refresh_token]`,
    'resources:',
    '  https://api.demo.example:',
    '    scopes: [read-data]',
  ].join('\n'),
  // A confidential agent: no refresh tokens.
  'clients/device-agent.yaml': [
    'client_id: device-agent',
    'name: Device Agent',
    'token_endpoint_auth_method: client_secret_basic',
    `secret_hash: ${hashSecret(agentSecret)}`,
    `grant_types: [${deviceGrant}]`,
    'resources:',
    '  https://api.demo.example:',
    '    scopes: [read-data, write-data]',
    '    authorization_details_types: [tool]',
  ].join('\n'),
};

type Page = { status: number; html: string; headers: Headers };

async function post(jar: Jar, url: string, fields: Record<string, string>): Promise<Page> {
  const response = await jar.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  return { status: response.status, html: await response.text(), headers: response.headers };
}

describe('device authorization grant', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let stop: () => Promise<void>;
  // The server's clock: real time moved by `offset`, or held still at `frozen`.
  let offset = 0;
  let frozen: number | undefined;
  let cli: client.Configuration;
  let agent: client.Configuration;

  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({ files, now: () => frozen ?? Math.floor(Date.now() / 1000) + offset }));
    cli = await discover(server, 'device-cli', client.None());
    agent = await discover(server, 'device-agent', client.ClientSecretBasic(agentSecret));
  }, 60_000);
  afterAll(async () => {
    await stop?.();
  });

  /** A person signed in at Consulate (through Okta), looking at the user code form. */
  async function signIn(username: string): Promise<{ jar: Jar; html: string }> {
    const jar = cookieJar();
    const outcome = await drive(server, okta, jar, `${server.url}/device`, { username });
    expect(outcome.page?.status).toBe(200);
    expect(outcome.page?.html).toContain('action="/device"');
    return { jar, html: outcome.page?.html as string };
  }
  const enter = (person: { jar: Jar; html: string }, userCode: string) => post(person.jar, `${server.url}/device`, { ...hiddenFields(person.html), user_code: userCode });
  const decide = (jar: Jar, requestPage: string, decision: 'approve' | 'deny') => post(jar, `${server.url}/device/decide`, { ...hiddenFields(requestPage), decision });
  const rawPoll = (deviceCode: string) => postForm(server, '/token', { grant_type: deviceGrant, device_code: deviceCode }, { authorization: basicAuth('device-agent', agentSecret) });

  it('is announced in discovery', async () => {
    expect(cli.serverMetadata().device_authorization_endpoint).toBe(`${server.issuer.replace(/\/$/, '')}/device_authorization`);
    expect(cli.serverMetadata().grant_types_supported).toContain(deviceGrant);
  });

  browserTest('in a real browser: the public CLI gets a Passport naming the approval, an ID token and a refresh token', async () => {
    const started = await client.initiateDeviceAuthorization(cli, { scope: 'openid email read-data' });
    expect(started.user_code).toMatch(userCodeShape);
    expect(started.verification_uri).toBe(`${server.issuer.replace(/\/$/, '')}/device`);
    expect(started.verification_uri_complete).toBe(`${started.verification_uri}?user_code=${started.user_code}`);
    expect(started.expires_in).toBe(codeTtl);
    expect(started.interval).toBe(1);
    // The device polls while the person acts in the browser. Should a browser step fail, the poll
    // must not outlive this test (a later test moves the clock past expiry: expired_token): it is
    // stopped when the test ends, and its rejection is handled here as well as awaited below.
    const stopPolling = new AbortController();
    onTestFinished(() => stopPolling.abort());
    const polled = client.pollDeviceAuthorizationGrant(cli, started, undefined, { signal: stopPolling.signal });
    polled.catch(() => undefined);

    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      await page.goto(started.verification_uri_complete as string);
      // Not signed in: Consulate's login first, then back to the code form.
      await page.waitForURL((url) => url.pathname === '/login');
      await signInInBrowser(page, 'alice@example.com', okta.url);
      await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
      expect(await page.getByLabel('Code').inputValue()).toBe(started.user_code);
      await page.getByRole('button', { name: 'Continue' }).click();

      await page.getByRole('heading', { name: 'Allow Device CLI on your device?' }).waitFor();
      const asked = await page.locator('main').innerText();
      expect(asked).toContain('Alice Anderson');
      expect(asked).toContain(started.user_code);
      expect(asked).toContain('See your e-mail address');
      expect(asked).toContain('On Demo API');
      expect(asked).toContain('Read your data');
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByRole('heading', { name: 'Device connected' }).waitFor();
    } finally {
      await chromium.close();
    }

    const tokens = await polled;
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    const passport = decodeJwt(tokens.access_token);
    expect(passport).toMatchObject({ iss: server.issuer, aud: 'https://api.demo.example', client_id: 'device-cli' });
    expect(String(passport.scope).split(' ').sort()).toEqual(['email', 'openid', 'read-data']);
    const approval = await server.deps.store.approvals.find(passport.approval as string);
    expect(approval).toMatchObject({ kind: 'device', clientId: 'device-cli', sub: passport.sub, status: 'issued' });
    // openid-client checked the ID token (iss, aud, signature); it is Alice.
    expect(tokens.claims()).toMatchObject({ sub: passport.sub, email: 'alice@example.com', aud: 'device-cli' });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await client.refreshTokenGrant(cli, tokens.refresh_token as string);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ sub: passport.sub, client_id: 'device-cli' });

    // The device code is spent.
    const again = await postForm(server, '/token', { grant_type: deviceGrant, device_code: started.device_code, client_id: 'device-cli' });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  }, 60_000);

  it('the confidential agent: authorization details in words, no ID token, no refresh token', async () => {
    const details = JSON.stringify([{ type: 'tool', tool: 'search', actions: ['read'] }]);
    const started = await client.initiateDeviceAuthorization(agent, { scope: 'read-data', authorization_details: details });
    const polled = client.pollDeviceAuthorizationGrant(agent, started);
    const bob = await signIn('bob@example.com');
    // Typed the way people type: lower case, spaces, no dash.
    const typed = started.user_code.toLowerCase().replace('-', ' ');
    const asked = await enter(bob, typed);
    expect(asked.status).toBe(200);
    expect(asked.html).toContain('Allow Device Agent on your device?');
    expect(asked.html).toContain('Call one tool of the demo API');
    expect(asked.html).toContain('search');
    const done = await decide(bob.jar, asked.html, 'approve');
    expect(done.status).toBe(200);
    expect(done.html).toContain('Device connected');

    const tokens = await polled;
    const passport = decodeJwt(tokens.access_token);
    expect(passport).toMatchObject({ client_id: 'device-agent', scope: 'read-data', authorization_details: [{ type: 'tool', tool: 'search', actions: ['read'] }] });
    expect(typeof passport.approval).toBe('string');
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.refresh_token).toBeUndefined();
  }, 30_000);

  it('deny → access_denied', async () => {
    const started = await client.initiateDeviceAuthorization(agent, { scope: 'read-data' });
    const polled = client.pollDeviceAuthorizationGrant(agent, started).catch((error: unknown) => error);
    const alice = await signIn('alice@example.com');
    const asked = await enter(alice, started.user_code);
    const done = await decide(alice.jar, asked.html, 'deny');
    expect(done.html).toContain('Request denied');
    const error = await polled;
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    expect((error as client.ResponseBodyError).error).toBe('access_denied');
    // Answering again changes nothing.
    const twice = await decide(alice.jar, asked.html, 'approve');
    expect(twice.status).toBe(400);
    expect(twice.html).toContain('Request closed');
  }, 30_000);

  it('polling too fast → slow_down, and the interval grows by 5 s', async () => {
    const started = await client.initiateDeviceAuthorization(agent, { scope: 'read-data' });
    frozen = Math.floor(Date.now() / 1000);
    try {
      const first = await rawPoll(started.device_code);
      expect(first.status).toBe(400);
      expect(first.body.error).toBe('authorization_pending');
      expect(first.headers.get('cache-control')).toBe('no-store');
      const second = await rawPoll(started.device_code);
      expect(second.status).toBe(400);
      expect(second.body.error).toBe('slow_down');
      // Each slow_down adds 5 s: 6 s now, so one second later is too fast again (11 s then); 11 s later is not.
      frozen += 1;
      expect((await rawPoll(started.device_code)).body.error).toBe('slow_down');
      frozen += 11;
      expect((await rawPoll(started.device_code)).body.error).toBe('authorization_pending');
    } finally {
      frozen = undefined;
    }
  });

  it('after expires_in: the code is refused at /device and the device hears expired_token', async () => {
    const started = await client.initiateDeviceAuthorization(agent, { scope: 'read-data' });
    const alice = await signIn('alice@example.com');
    offset = codeTtl + 1;
    try {
      const late = await enter(alice, started.user_code);
      expect(late.status).toBe(400);
      expect(late.html).toContain('not valid, or it has expired');
      const error = await client.pollDeviceAuthorizationGrant(agent, started).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(client.ResponseBodyError);
      expect((error as client.ResponseBodyError).error).toBe('expired_token');
    } finally {
      offset = 0;
    }
  }, 30_000);

  it(`wrong user codes: ${attemptsAllowed} per session per 10 minutes, then 429 even for the right code`, async () => {
    const started = await client.initiateDeviceAuthorization(agent, { scope: 'read-data' });
    const alice = await signIn('alice@example.com');
    const wrong = started.user_code === 'BBBB-BBBB' ? 'CCCC-CCCC' : 'BBBB-BBBB';
    const first = await enter(alice, wrong);
    expect(first.status).toBe(400);
    expect(first.html).toContain('2 attempts left');
    expect(first.html).not.toContain(started.user_code);
    expect((await enter(alice, 'not a code at all')).html).toContain('1 attempt left');
    const third = await enter(alice, wrong);
    expect(third.status).toBe(429);
    expect(third.html).toContain('Too many attempts');
    const right = await enter(alice, started.user_code);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(right.html).toContain('Please wait');
    // Nothing was claimed while limited: the request is still open for anyone.
    expect((await rawPoll(started.device_code)).body.error).toBe('authorization_pending');

    // Another session is counted on its own.
    const bob = await signIn('bob@example.com');
    expect((await enter(bob, started.user_code)).status).toBe(200);

    // Ten minutes later the limited session may try again (its code is now Bob's, so: used).
    offset = 601;
    try {
      const later = await enter(alice, started.user_code);
      expect(later.status).toBe(403);
      expect(later.html).toContain('Code already used');
    } finally {
      offset = 0;
    }
  }, 30_000);

  it('a code claimed by one person cannot be seen or approved by another', async () => {
    const started = await client.initiateDeviceAuthorization(agent, { scope: 'read-data' });
    const alice = await signIn('alice@example.com');
    const bob = await signIn('bob@example.com');
    const mine = await enter(alice, started.user_code);
    expect(mine.status).toBe(200);

    const theirs = await enter(bob, started.user_code);
    expect(theirs.status).toBe(403);
    expect(theirs.html).toContain('Code already used');
    expect(theirs.html).not.toMatch(/alice|Anderson/i);
    // Bob posts a decision on Alice's request id, with his own valid form token.
    const bobCsrf = hiddenFields(bob.html).csrf as string;
    const forged = await post(bob.jar, `${server.url}/device/decide`, { csrf: bobCsrf, id: hiddenFields(mine.html).id as string, decision: 'approve' });
    expect(forged.status).toBe(404);
    expect(forged.html).toContain('No such request');
    expect((await rawPoll(started.device_code)).body.error).toBe('authorization_pending');

    // Alice's own answer still counts.
    expect((await decide(alice.jar, mine.html, 'approve')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const issued = await rawPoll(started.device_code);
    expect(issued.status).toBe(200);
    const aliceSub = (await server.deps.store.approvals.find(decodeJwt(issued.body.access_token as string).approval as string))?.sub;
    expect(decodeJwt(issued.body.access_token as string).sub).toBe(aliceSub);
    expect(issued.body.refresh_token).toBeUndefined();
  }, 30_000);

  it('forms without the CSRF token are refused and change nothing', async () => {
    const started = await client.initiateDeviceAuthorization(agent, { scope: 'read-data' });
    const alice = await signIn('alice@example.com');
    const noCsrf = await post(alice.jar, `${server.url}/device`, { user_code: started.user_code });
    expect(noCsrf.status).toBe(403);
    // Nobody claimed it: Alice (with the token) still can.
    const asked = await enter(alice, started.user_code);
    expect(asked.status).toBe(200);
    const { csrf: _csrf, ...withoutCsrf } = hiddenFields(asked.html);
    const decideNoCsrf = await post(alice.jar, `${server.url}/device/decide`, { ...withoutCsrf, decision: 'approve' });
    expect(decideNoCsrf.status).toBe(403);
    const wrongCsrf = await post(alice.jar, `${server.url}/device/decide`, { ...withoutCsrf, csrf: 'x'.repeat(43), decision: 'approve' });
    expect(wrongCsrf.status).toBe(403);
    expect((await rawPoll(started.device_code)).body.error).toBe('authorization_pending');
  });

  it('the user code page asks for a login first and comes back with the code', async () => {
    const response = await fetch(`${server.url}/device?user_code=WDJB-MJHT`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location') as string, server.url);
    expect(location.pathname).toBe('/login');
    expect(location.searchParams.get('return_to')).toBe('/device?user_code=WDJB-MJHT');
    // A form posted without a session goes to the login too (with a valid token from this browser).
    const jar = cookieJar();
    const form = await jar.fetch(`${server.url}/login`);
    const posted = await post(jar, `${server.url}/device`, { csrf: hiddenFields(await form.text()).csrf as string, user_code: 'WDJB-MJHT' });
    expect(posted.status).toBe(303);
  });

  it('bad requests at /device_authorization get the RFC error, never a stack trace', async () => {
    const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => postForm(server, '/device_authorization', fields, headers);
    const cases: [Awaited<ReturnType<typeof form>>, number, string][] = [
      [await form({ scope: 'read-data' }), 401, 'invalid_client'],
      [await form({ client_id: 'device-agent', scope: 'read-data' }), 401, 'invalid_client'],
      [await form({ scope: 'read-data' }, { authorization: basicAuth('device-agent', 'wrong') }), 401, 'invalid_client'],
      [await form({ client_id: 'spa', scope: 'read-data' }), 400, 'unauthorized_client'],
      [await form({ client_id: 'device-cli' }), 400, 'invalid_scope'],
      [await form({ client_id: 'device-cli', scope: 'write-data' }), 400, 'invalid_scope'],
      [await form({ client_id: 'device-cli', scope: 'read-data', resource: 'https://reports.example' }), 400, 'invalid_target'],
      [await form({ scope: 'read-data', authorization_details: '[{"type":"tool"}]' }, { authorization: basicAuth('device-agent', agentSecret) }), 400, 'invalid_authorization_details'],
      [await form({ client_id: 'device-cli', scope: 'read-data', resource: 'https://api.demo.example' }, {}), 200, ''],
      [await postForm(server, '/device_authorization', 'client_id=device-cli&scope=read-data&scope=openid'), 400, 'invalid_request'],
    ];
    for (const [answer, status, error] of cases) {
      expect(answer.status, answer.text).toBe(status);
      if (error) expect(answer.body).toMatchObject({ error });
      expect(answer.text).not.toMatch(/at .*\.ts:\d+/);
    }
    const get = await fetch(`${server.url}/device_authorization`);
    expect(get.status).toBe(405);

    // At the token endpoint: no device_code, an unknown one, another client's.
    const started = await client.initiateDeviceAuthorization(cli, { scope: 'read-data' });
    expect((await postForm(server, '/token', { grant_type: deviceGrant, client_id: 'device-cli' })).body.error).toBe('invalid_request');
    expect((await postForm(server, '/token', { grant_type: deviceGrant, client_id: 'device-cli', device_code: 'nope' })).body.error).toBe('invalid_grant');
    expect((await rawPoll(started.device_code)).body.error).toBe('invalid_grant');
    expect((await postForm(server, '/token', { grant_type: deviceGrant, client_id: 'spa', device_code: started.device_code })).body.error).toBe('unauthorized_client');
  });
});

describe('device authorization across a restart', () => {
  it('a device code issued before a restart is approved and polled after it', async () => {
    const { server: first, okta, stop } = await startWithOkta({ files });
    let second: TestConsulate | undefined;
    try {
      const jar = cookieJar();
      const signedIn = await drive(first, okta, jar, `${first.url}/device`, { username: 'alice@example.com' });
      expect(signedIn.page?.status).toBe(200);
      const started = await postForm(first, '/device_authorization', { client_id: 'device-cli', scope: 'openid read-data' });
      expect(started.status).toBe(200);
      const { device_code: deviceCode, user_code: userCode } = started.body as { device_code: string; user_code: string };

      const secret = first.config.upstreams.get('okta')?.client_secret as string;
      await first.stop({ keepData: true });
      // Let this process's HTTP client see the old server's sockets close before the port is reused.
      await new Promise((r) => setTimeout(r, 200));
      second = await startConsulate({ dir: first.dir, reuseConfig: true, port: first.port, env: { OKTA_SECRET: secret } });
      const server = second;

      // The session survived too (it is in the store): straight to the code form.
      const form = await jar.fetch(`${server.url}/device`);
      expect(form.status).toBe(200);
      const asked = await post(jar, `${server.url}/device`, { ...hiddenFields(await form.text()), user_code: userCode });
      expect(asked.status).toBe(200);
      expect((await post(jar, `${server.url}/device/decide`, { ...hiddenFields(asked.html), decision: 'approve' })).status).toBe(200);

      const cli = await discover(server, 'device-cli', client.None());
      const tokens = await client.pollDeviceAuthorizationGrant(cli, { device_code: deviceCode, user_code: userCode, verification_uri: `${server.url}/device`, expires_in: codeTtl, interval: 1 });
      const passport = decodeJwt(tokens.access_token);
      expect(passport).toMatchObject({ client_id: 'device-cli', iss: server.issuer });
      expect((await server.deps.store.approvals.find(passport.approval as string))?.status).toBe('issued');
      expect(tokens.claims()?.sub).toBe(passport.sub);
    } finally {
      if (second) {
        await second.stop();
        await okta.close();
      } else {
        await stop();
      }
    }
  }, 60_000);
});
