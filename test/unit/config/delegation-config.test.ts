// Agents, delegation policies and trusted issuers in config: every mistake is reported at the
// file:line:col of the key to edit, and all of them come back together.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { formatProblems } from '../../../src/config/problems.ts';
import { baseFiles, positionOf, problemsOf, removeConfigDirs, shown, validSecretHash, writeConfigDir } from './support.ts';

afterEach(removeConfigDirs);

const agent = (lines: string[]) =>
  [
    'client_id: bot',
    'kind: agent',
    'owner: owner@example.test',
    'token_endpoint_auth_method: client_secret_basic',
    `secret_hash: ${validSecretHash}`,
    'grant_types: [urn:ietf:params:oauth:grant-type:token-exchange]',
    'resources:',
    '  https://api.example:',
    '    scopes: [read]',
    ...lines,
    '',
  ].join('\n');

describe('agent and delegation config', () => {
  it('loads a complete agent with its policy', () => {
    const dir = writeConfigDir({ ...baseFiles, 'clients/bot.yaml': agent(['delegation:', '  act_for: { groups: [eng] }', '  subject_token_clients: [agent]', '  max_chain: 2']) });
    const config = loadConfig(dir, { env: {} });
    expect(config.clients.get('bot')).toMatchObject({ kind: 'agent', state: 'active', delegation: { act_for: { groups: ['eng'], anyone: false }, max_chain: 2, dpop: 'optional' } });
  });

  it('an agent needs an owner and a policy; token exchange needs a policy', () => {
    const text = agent([]).replace('owner: owner@example.test\n', '');
    const dir = writeConfigDir({ ...baseFiles, 'clients/bot.yaml': text });
    const problems = problemsOf(dir);
    expect(problems.map((p) => p.message).sort(), formatProblems(problems)).toEqual([
      'an agent needs a delegation policy (delegation:)',
      'an agent needs an owner (the e-mail of the person responsible for it)',
      'token exchange and JWT bearer need a delegation policy (delegation:)',
    ]);
    expect(problems.find((p) => p.path === 'grant_types')).toMatchObject({ file: shown(dir, 'clients/bot.yaml'), line: positionOf(text, 'grant_types').line });
  });

  it('names unknown clients, upstreams and issuers at their place in the list', () => {
    const text = agent(['delegation:', '  subject_token_clients: [agent, ghost]', '  subject_token_upstreams: [okta]', '  jwt_bearer_issuers: [partner]']);
    const dir = writeConfigDir({ ...baseFiles, 'clients/bot.yaml': text });
    const problems = problemsOf(dir);
    expect(problems.map((p) => `${p.path}: ${p.message}`).sort()).toEqual([
      'delegation.jwt_bearer_issuers[0]: unknown issuer partner (config/issuers/)',
      'delegation.subject_token_clients[1]: unknown client ghost',
      'delegation.subject_token_upstreams[0]: unknown upstream okta',
    ]);
    expect(problems.find((p) => p.path === 'delegation.subject_token_clients[1]')).toMatchObject(positionOf(text, 'ghost'));
  });

  it('checks budgets, actions and lifecycle states', () => {
    const text = agent(['    authorization_details_types: []', '    actions: { payment: [pay] }', '    budget: { amount: "12.5" }', 'state: paused', 'delegation:', '  max_chain: 11']);
    const dir = writeConfigDir({ ...baseFiles, 'clients/bot.yaml': text });
    const messages = problemsOf(dir).map((p) => `${p.path}: ${p.message}`);
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/^state: /), expect.stringMatching(/^delegation\.max_chain: /), 'resources["https://api.example"].budget: amount and currency go together']));
  });

  it('a public client cannot exchange tokens, and owner/state are only for agents', () => {
    const text = ['client_id: spa', 'token_endpoint_auth_method: none', 'owner: x@example.test', 'grant_types: [urn:ietf:params:oauth:grant-type:token-exchange]', 'delegation: {}', ''].join('\n');
    const dir = writeConfigDir({ ...baseFiles, 'clients/spa.yaml': text });
    expect(problemsOf(dir).map((p) => p.message).sort()).toEqual(['a public client (none) cannot use urn:ietf:params:oauth:grant-type:token-exchange', 'owner and state are for clients of kind agent']);
  });

  it('a trusted issuer needs exactly one key source and a known rule set', () => {
    const text = ['id: partner', 'issuer: https://partner.example', 'jwks_uri: https://partner.example/jwks', 'jwks: { keys: [{ kty: EC }] }', 'mapping: nowhere', ''].join('\n');
    const dir = writeConfigDir({ ...baseFiles, 'issuers/partner.yaml': text });
    const problems = problemsOf(dir);
    // Both at once.
    expect(problems.map((p) => `${p.path}: ${p.message}`).sort()).toEqual(['jwks: give exactly one of jwks or jwks_uri', 'mapping: no rule set nowhere in mappings/']);
    const fixed = writeConfigDir({ ...baseFiles, 'issuers/partner.yaml': text.replace(/jwks: .*\n/, '') });
    expect(problemsOf(fixed).map((p) => `${p.path}: ${p.message}`)).toEqual(['mapping: no rule set nowhere in mappings/']);
  });
});
