// `consulate explain` as an operator runs it (the compiled CLI, against the running server's SQLite
// file): the receipt id from a token response's Consulate-Receipt header, or the Passport itself,
// explained in words and as JSON — for a client credentials Passport issued, and for requests
// refused at the grant (a scope the client may not have), at the client check (a suspended agent)
// and at the DPoP check (a replayed proof). A Passport that is not ours is said to be unverified.
import { decodeJwt, SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/clients/secrets.ts';
import { runConsulate } from './support/cli.ts';
import { basicAuth, postForm, type Answer } from './support/clients.ts';
import { fixtureEnv, secrets, startConsulate, type TestConsulate } from './support/consulate.ts';
import { agentAuth, agentSecret, agentYaml, api, envName } from './support/delegation.ts';
import { makeProof, proofKey } from './support/dpop.ts';


describe('consulate explain', () => {
  let server: TestConsulate;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startConsulate({
      files: { 'clients/sleepy.yaml': agentYaml('sleepy', 'act_for: { anyone: true }', undefined, 'state: suspended') },
      env: { [envName('sleepy')]: hashSecret(agentSecret('sleepy')) },
    });
    env = { ...fixtureEnv(), [envName('sleepy')]: hashSecret(agentSecret('sleepy')), CONSULATE_CONFIG_DIR: server.configDir, CONSULATE_DATA_DIR: server.dataDir, CONSULATE_ISSUER: server.issuer };
  });
  afterAll(async () => {
    await server?.stop();
  });

  const consulate = (args: string[]) => runConsulate(args, env);

  const receiptOf = (answer: Answer): string => {
    const id = answer.headers.get('consulate-receipt');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    return id as string;
  };
  const agentBasic = { authorization: basicAuth('agent-basic', secrets['agent-basic']) };

  it('an issued Passport: by its receipt id and by the Passport itself, in words and as JSON', async () => {
    const key = await proofKey();
    const proof = await makeProof(key, { htu: `${server.issuer}/token` });
    const issued = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data' }, { ...agentBasic, dpop: proof });
    expect(issued.status, issued.text).toBe(200);
    const id = receiptOf(issued);
    // The header names the receipt the Passport names.
    expect(decodeJwt(issued.body.access_token as string).receipt).toBe(id);

    const words = await consulate(['explain', id]);
    expect(words.stderr).toBe('');
    expect(words.code).toBe(0);
    expect(words.stdout).toContain(`Passport issued to agent-basic for itself at ${api} (client credentials).`);
    expect(words.stdout).toContain('decided by: grant.delegation_policy (allowed)');
    expect(words.stdout).toContain('client authentication: client_secret_basic');
    expect(words.stdout).toContain(`resource ${api}: asked for`);
    expect(words.stdout).toContain('scopes: read-data (asked: read-data)');
    expect(words.stdout).toContain('delegation policy: allowed; the client acting for itself');
    expect(words.stdout).toContain(`DPoP: bound to key jkt ${key.jkt}`);

    const byPassport = await consulate(['explain', issued.body.access_token as string, '--json']);
    expect(byPassport.code).toBe(0);
    const json = JSON.parse(byPassport.stdout) as Record<string, any>;
    expect(json.passport).toMatchObject({ verified: true, receipt: id, matches_receipt: true });
    expect(json.receipt).toMatchObject({ id, event: 'passport.issued', client_id: 'agent-basic', subject: 'agent-basic' });
    expect(json.receipt.details.trail).toEqual({
      client_auth: 'client_secret_basic',
      dpop_jkt: key.jkt,
      resource: { id: api, by: 'asked' },
      scopes: { asked: ['read-data'] },
      delegation: { verdict: 'allowed' },
    });
    expect(json.explanation).toMatchObject({ outcome: 'issued', decided: { step: 'grant.delegation_policy', rule: 'allowed' } });
  });

  it('a scope the client may not have: refused at the grant\'s scope step, the receipt id in the refusal', async () => {
    const refused = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api, scope: 'read-data admin' }, agentBasic);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_scope' });
    const words = await consulate(['explain', receiptOf(refused)]);
    expect(words.code).toBe(0);
    expect(words.stdout).toContain("Refused: agent-basic's client credentials request, invalid_scope at step grant.scopes");
    expect(words.stdout).toContain('decided by: grant.scopes (scope not allowed: admin)');
    expect(words.stdout).toContain('scopes asked: read-data admin');
  });

  it('a suspended agent: refused at the client check, naming the rule', async () => {
    const refused = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, agentAuth('sleepy'));
    expect(refused.body).toMatchObject({ error: 'unauthorized_client' });
    const result = await consulate(['explain', receiptOf(refused), '--json']);
    expect(result.code).toBe(0);
    const { explanation } = JSON.parse(result.stdout) as { explanation: Record<string, unknown> };
    expect(explanation).toMatchObject({ outcome: 'refused', decided: { step: 'check_client', rule: 'client_suspended' } });
    expect(explanation.summary).toBe("Refused: sleepy's client credentials request, unauthorized_client at step check_client (client_suspended)");
  });

  it('a replayed DPoP proof: refused at the DPoP step', async () => {
    const key = await proofKey();
    const proof = await makeProof(key, { htu: `${server.issuer}/token` });
    const form = { grant_type: 'client_credentials', resource: api };
    expect((await postForm(server, '/token', form, { ...agentBasic, dpop: proof })).status).toBe(200);
    const replayed = await postForm(server, '/token', form, { ...agentBasic, dpop: proof });
    expect(replayed.body).toMatchObject({ error: 'invalid_dpop_proof', error_description: 'the DPoP proof is invalid' });
    const words = await consulate(['explain', receiptOf(replayed)]);
    expect(words.stdout).toContain('decided by: verify_dpop (dpop_replay)');
    expect(words.stdout).toContain('refused at step verify_dpop: invalid_dpop_proof, rule/reason dpop_replay');
  });

  it('a Passport not signed by this Consulate is said to be unverified; unknown ids and garbage are refused', async () => {
    const issued = await postForm(server, '/token', { grant_type: 'client_credentials', resource: api }, agentBasic);
    const claims = decodeJwt(issued.body.access_token as string);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'not-ours' }).sign(privateKey);
    const result = await consulate(['explain', forged]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Passport NOT verified \(unknown_key\): it may not be ours; shown is the receipt it names\.\n/);

    const unknown = await consulate(['explain', '01890000-0000-7000-8000-000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('no receipt 01890000-0000-7000-8000-000000000000 in this database\n');
    const garbage = await consulate(['explain', 'hello']);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toContain('give a receipt id');
  });

  it('--help says what it takes', async () => {
    const help = await consulate(['explain', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Consulate-Receipt header');
    expect(help.stdout).toContain('--json');
  });
});
