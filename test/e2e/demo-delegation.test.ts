// The README's "on behalf of" walkthrough, end to end: a person signs in to the demo app in a real
// browser (Chromium → Consulate → stand-in Okta → consent), the demo's digital assistant (the
// committed config/clients/digital-assistant.yaml, with its published demo secret) exchanges the
// Passport the app shows, exactly as the README's curl does, and the resource server's
// introspection says sub = the person, act.sub = the agent.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startDemoApi, type DemoApi } from '../../src/demo/demo-api.ts';
import { startDemoApp, type DemoApp } from '../../src/demo/demo-app.tsx';
import { startWithOkta } from './support/authorize.ts';
import { browserTest, launchChromium, signInInBrowser } from './support/chromium.ts';
import { secrets, type TestConsulate } from './support/consulate.ts';
import { basicAuth } from './support/clients.ts';
import type { Upstream } from './support/upstreams.ts';

const committed = (name: string) => readFileSync(resolve(import.meta.dirname, '../../config/clients', name), 'utf8');
/** The demo secret the README and the welcome text publish. */
const assistantSecret = 'NFozXv_L5p6MDaNoXbLil7DUmwjdETdai5h7Vt0k3TI';

describe('the README\'s on-behalf-of walkthrough', () => {
  let server: TestConsulate;
  let okta: Upstream;
  let app: DemoApp;
  let demoApi: DemoApi;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ server, okta, stop } = await startWithOkta({ files: { 'clients/demo-app.yaml': committed('demo-app.yaml'), 'clients/digital-assistant.yaml': committed('digital-assistant.yaml') } }));
    app = await startDemoApp({ issuer: server.issuer, client: server.config.clients.get('demo-app')!, port: 0 });
    demoApi = await startDemoApi({ issuer: server.issuer, port: 0 });
  }, 60_000);
  afterAll(async () => {
    await chromium?.close();
    await app?.close();
    await demoApi?.close();
    await stop?.();
  });

  const post = async (path: string, form: Record<string, string>, authorization: string) => {
    const response = await fetch(new URL(path, server.url), { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  browserTest('person signs in, the agent exchanges the Passport, introspection shows sub = person and act.sub = agent', async () => {
    chromium = await launchChromium();
    const page = await chromium.context.newPage();
    await page.goto(app.url);
    await page.getByRole('button', { name: 'Sign in with Consulate' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${server.url}/login`));
    await signInInBrowser(page, 'alice@example.com', okta.url);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(app.url);
    const raw = await page.getByLabel('Raw tokens').innerText();
    const personToken = /access_token: (\S+)/.exec(raw)?.[1];
    expect(personToken).toBeDefined();
    const person = JSON.parse(await page.getByLabel('Passport claims').innerText()) as Record<string, unknown>;
    await page.close();

    // curl -u digital-assistant:… -d grant_type=…token-exchange -d subject_token=… …
    const exchanged = await post(
      '/token',
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: personToken!,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        audience: 'https://api.demo.example',
        scope: 'read-data',
      },
      basicAuth('digital-assistant', assistantSecret),
    );
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    expect(exchanged.body).toMatchObject({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', scope: 'read-data' });

    // curl -u demo-api:… --data-urlencode token=… /introspect
    const seen = await post('/introspect', { token: String(exchanged.body.access_token) }, basicAuth('demo-api', secrets['demo-api']));
    expect(seen.body).toMatchObject({ active: true, sub: person.sub, act: { sub: 'digital-assistant' }, client_id: 'digital-assistant', azp: 'digital-assistant', aud: 'https://api.demo.example', delegation_active: true, orig_iss: okta.issuer });
    expect(seen.body.budget_remaining).toEqual({ uses: 100, uses_remaining: 100 });

    // curl -H "Authorization: Bearer $AGENT_TOKEN" <demo API>/data: the guard lets the agent in, and
    // the API sees whom it acts for; write-data it does not have.
    const data = await fetch(`${demoApi.url}/data`, { headers: { authorization: `Bearer ${String(exchanged.body.access_token)}` } });
    expect(data.status).toBe(200);
    expect(((await data.json()) as { caller: unknown }).caller).toMatchObject({ sub: person.sub, client_id: 'digital-assistant', azp: 'digital-assistant', act: { sub: 'digital-assistant' } });
    const write = await fetch(`${demoApi.url}/data`, { method: 'POST', headers: { authorization: `Bearer ${String(exchanged.body.access_token)}`, 'content-type': 'application/json' }, body: '{"text":"hi"}' });
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toContain('insufficient_scope');

    // The agent cannot widen what the person gave the app.
    const wider = await post(
      '/token',
      { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: personToken!, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', scope: 'write-data' },
      basicAuth('digital-assistant', assistantSecret),
    );
    expect(wider.body).toMatchObject({ error: 'invalid_scope' });
  });
});
