// Every config problem is reported as `file:line:col  path  message`, pointing at the exact spot
// an operator has to edit, and all problems of a load come back together.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { formatProblems } from '../../../src/config/problems.ts';
import { baseFiles, positionOf, problemsOf, removeConfigDirs, shown, validSecretHash, writeConfigDir } from './support.ts';

afterEach(removeConfigDirs);

/** Loads base files with `files` replacing or adding some, and expects exactly one problem. */
function onlyProblem(files: Record<string, string | undefined>) {
  const dir = writeConfigDir({ ...baseFiles, ...files });
  const problems = problemsOf(dir);
  expect(problems, formatProblems(problems)).toHaveLength(1);
  return { dir, problem: problems[0] };
}

const client = (lines: string[]) => `${lines.join('\n')}\n`;

describe('YAML syntax errors', () => {
  it('points at the offending character', () => {
    const text = 'listen:\n\thost: 127.0.0.1\n';
    const { dir, problem } = onlyProblem({ 'consulate.yaml': text });
    expect(problem).toEqual({ file: shown(dir, 'consulate.yaml'), line: 2, col: 1, path: '', message: expect.stringMatching(/^YAML: .*tab/i) });
  });

  it('points at a stray closing bracket', () => {
    const text = 'listen: {host: 127.0.0.1, port: 1}}\n';
    const { problem } = onlyProblem({ 'consulate.yaml': text });
    expect(problem).toMatchObject({ line: 1, col: text.lastIndexOf('}') + 1 });
    expect(problem?.message).toMatch(/^YAML: /);
  });

  it('refuses a key given twice, at its second occurrence', () => {
    const text = 'passports:\n  ttl_seconds: 60\n  ttl_seconds: 120\n';
    const { problem } = onlyProblem({ 'consulate.yaml': text });
    expect(problem).toMatchObject({ ...positionOf(text, 'ttl_seconds', 2), message: 'YAML: Map keys must be unique' });
  });
});

describe('shape problems', () => {
  it('a wrong type points at the value', () => {
    const text = 'listen:\n  host: 127.0.0.1\n  port: "abc"\n';
    const { dir, problem } = onlyProblem({ 'consulate.yaml': text });
    expect(problem).toEqual({
      file: shown(dir, 'consulate.yaml'),
      ...positionOf(text, '"abc"'),
      path: 'listen.port',
      message: expect.stringContaining('expected number'),
    });
  });

  it('an unknown key (a typo) points at the key', () => {
    const text = 'lisen:\n  host: 127.0.0.1\n';
    const { problem } = onlyProblem({ 'consulate.yaml': text });
    expect(problem).toMatchObject({ line: 1, col: 1, path: 'lisen', message: 'unknown key' });
  });

  it('an unknown nested key points at that key', () => {
    const text = 'listen:\n  host: 127.0.0.1\n  prot: 8080\n';
    const { problem } = onlyProblem({ 'consulate.yaml': text });
    expect(problem).toMatchObject({ ...positionOf(text, 'prot'), path: 'listen.prot', message: 'unknown key' });
  });

  it('an issuer that is http on a non-loopback host is refused', () => {
    const text = 'issuer: http://auth.example.com\n';
    const { problem } = onlyProblem({ 'consulate.yaml': text });
    expect(problem).toMatchObject({ ...positionOf(text, 'http://'), path: 'issuer', message: expect.stringContaining('https') });
  });

  it.each(['http://localhost:8080', 'http://127.0.0.1:1', 'http://[::1]:8080', 'https://auth.example.com'])('accepts the issuer %s', (issuer) => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': `issuer: ${issuer}\n` });
    expect(loadConfig(dir, { env: {} }).main.issuer).toBe(issuer);
  });

  it('a missing required key points at the enclosing map and names the key', () => {
    const text = client(['client_id: agent', `secret_hash: ${validSecretHash}`]);
    const { dir, problem } = onlyProblem({ 'clients/agent.yaml': text });
    expect(problem).toMatchObject({ file: shown(dir, 'clients/agent.yaml'), line: 1, col: 1, path: 'token_endpoint_auth_method' });
  });
});

describe('cross-reference problems', () => {
  it('a client naming an unknown resource points at that resource key', () => {
    const text = client([
      'client_id: agent',
      'token_endpoint_auth_method: client_secret_basic',
      `secret_hash: ${validSecretHash}`,
      'resources:',
      '  https://elsewhere.example:',
      '    scopes: []',
    ]);
    const { dir, problem } = onlyProblem({ 'clients/agent.yaml': text });
    expect(problem).toEqual({
      file: shown(dir, 'clients/agent.yaml'),
      ...positionOf(text, 'https://elsewhere'),
      path: 'resources["https://elsewhere.example"]',
      message: 'unknown resource https://elsewhere.example',
    });
  });

  it('a client scope the resource does not declare points at that list item', () => {
    const text = client([
      'client_id: agent',
      'token_endpoint_auth_method: client_secret_basic',
      `secret_hash: ${validSecretHash}`,
      'resources:',
      '  https://api.example:',
      '    scopes:',
      '      - read',
      '      - write',
    ]);
    const { problem } = onlyProblem({ 'clients/agent.yaml': text });
    expect(problem).toMatchObject({
      ...positionOf(text, 'write'),
      path: 'resources["https://api.example"].scopes[1]',
      message: 'resource https://api.example has no scope "write"',
    });
  });

  it('an unknown authorization_details type points at that list item', () => {
    const text = client([
      'client_id: agent',
      'token_endpoint_auth_method: client_secret_basic',
      `secret_hash: ${validSecretHash}`,
      'resources:',
      '  https://api.example:',
      '    authorization_details_types: [payment]',
    ]);
    const { problem } = onlyProblem({ 'clients/agent.yaml': text });
    expect(problem).toMatchObject({
      ...positionOf(text, 'payment'),
      path: 'resources["https://api.example"].authorization_details_types[0]',
      message: 'resource https://api.example has no authorization_details type "payment"',
    });
  });

  it('a client_id used by two files is reported at the second file, naming the first', () => {
    const text = client(['client_id: agent', 'token_endpoint_auth_method: client_secret_post', `secret_hash: ${validSecretHash}`]);
    const { dir, problem } = onlyProblem({ 'clients/zz-copy.yaml': text });
    expect(problem).toEqual({
      file: shown(dir, 'clients/zz-copy.yaml'),
      ...positionOf(text, 'agent'),
      path: 'client_id',
      message: `client agent is defined twice (also in ${shown(dir, 'clients/agent.yaml')})`,
    });
  });

  it('private_key_jwt without jwks or jwks_uri points at the method', () => {
    const text = client(['client_id: agent', 'token_endpoint_auth_method: private_key_jwt']);
    const { problem } = onlyProblem({ 'clients/agent.yaml': text });
    expect(problem).toMatchObject({
      ...positionOf(text, 'private_key_jwt'),
      path: 'token_endpoint_auth_method',
      message: 'private_key_jwt needs exactly one of jwks or jwks_uri',
    });
  });

  it('a secret method without secret_hash points at the method', () => {
    const text = client(['client_id: agent', 'token_endpoint_auth_method: client_secret_post']);
    const { problem } = onlyProblem({ 'clients/agent.yaml': text });
    expect(problem).toMatchObject({
      ...positionOf(text, 'client_secret_post'),
      path: 'token_endpoint_auth_method',
      message: 'client_secret_post needs secret_hash',
    });
  });

  it.each([
    ['a plain secret', 'hunter2'],
    ['a truncated sha256 hash', 'sha256:7Vxg8Ey_1JFqbBNPKKbhmky7Uc19QUb'],
    ['an unknown algorithm', 'md5:7Vxg8Ey_1JFqbBNPKKbhmky7Uc19QUbAJ9va6eOamsk'],
  ])('a malformed secret_hash (%s) points at the value', (_, hash) => {
    const text = client(['client_id: agent', 'token_endpoint_auth_method: client_secret_basic', `secret_hash: ${hash}`]);
    const { problem } = onlyProblem({ 'clients/agent.yaml': text });
    expect(problem).toMatchObject({ ...positionOf(text, hash), path: 'secret_hash', message: expect.stringContaining('not a secret hash') });
  });

  it('a resource RAR schema that is not valid JSON Schema points at the schema', () => {
    const text = [
      'resource: https://api.example',
      'scopes:',
      '  read: Read things',
      'authorization_details_types:',
      '  tool:',
      '    schema:',
      '      type: nonsense',
      '',
    ].join('\n');
    const { problem } = onlyProblem({ 'resources/api.yaml': text });
    expect(problem).toMatchObject({
      ...positionOf(text, 'type: nonsense'),
      path: 'authorization_details_types.tool.schema',
      message: expect.stringMatching(/^invalid JSON Schema: /),
    });
  });

  it('passport_ttl_seconds above passports.max_ttl_seconds points at the ttl', () => {
    const text = 'resource: https://api.example\npassport_ttl_seconds: 900\nscopes:\n  read: Read things\n';
    const { problem } = onlyProblem({ 'consulate.yaml': 'passports:\n  max_ttl_seconds: 600\n', 'resources/api.yaml': text });
    expect(problem).toMatchObject({
      ...positionOf(text, '900'),
      path: 'passport_ttl_seconds',
      message: 'must be at most passports.max_ttl_seconds (600)',
    });
  });
});

describe('all problems of one load at once', () => {
  it('reports shape problems of several files together, sorted by file and position', () => {
    const main = 'listen:\n  port: "abc"\nlisen: x\nissuer: http://auth.example.com\n';
    const resource = 'resource: https://api.example\nscopes: [read]\n';
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main, 'resources/api.yaml': resource, 'clients/broken.yaml': 'client_id: [\n' });
    const problems = problemsOf(dir);
    const file = (name: string) => shown(dir, name);
    expect(problems.map((p) => [p.file, p.line, p.col, p.path])).toEqual([
      [file('clients/broken.yaml'), 2, 1, ''],
      [file('consulate.yaml'), 2, 9, 'listen.port'],
      [file('consulate.yaml'), 3, 1, 'lisen'],
      [file('consulate.yaml'), 4, 9, 'issuer'],
      [file('resources/api.yaml'), 2, 9, 'scopes'],
    ]);
  });

  it('reports cross-reference problems of several files together', () => {
    const dir = writeConfigDir({
      ...baseFiles,
      'consulate.yaml': 'passports:\n  max_ttl_seconds: 600\n',
      'resources/api.yaml': 'resource: https://api.example\npassport_ttl_seconds: 900\nscopes:\n  read: Read things\n',
      'clients/agent.yaml': client([
        'client_id: agent',
        'token_endpoint_auth_method: client_secret_basic',
        'secret_hash: hunter2',
        'resources:',
        '  https://api.example:',
        '    scopes: [read, write]',
        '  https://elsewhere.example: {}',
      ]),
      'clients/twin.yaml': client(['client_id: agent', 'token_endpoint_auth_method: private_key_jwt']),
    });
    const problems = problemsOf(dir);
    expect(problems.map((p) => `${p.file}:${p.line}:${p.col}  ${p.path}`)).toEqual([
      `${shown(dir, 'clients/agent.yaml')}:3:14  secret_hash`,
      `${shown(dir, 'clients/agent.yaml')}:6:20  resources["https://api.example"].scopes[1]`,
      `${shown(dir, 'clients/agent.yaml')}:7:3  resources["https://elsewhere.example"]`,
      `${shown(dir, 'clients/twin.yaml')}:1:12  client_id`,
      `${shown(dir, 'clients/twin.yaml')}:2:29  token_endpoint_auth_method`,
      `${shown(dir, 'resources/api.yaml')}:2:23  passport_ttl_seconds`,
    ]);
  });

  it('formats each problem as `file:line:col  path  message`, one per line', () => {
    const main = 'listen:\n  port: "abc"\nlisen: x\n';
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main, 'clients/broken.yaml': 'client_id: [\n' });
    const problems = problemsOf(dir);
    const text = formatProblems(problems);
    expect(text.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${escape(shown(dir, 'clients/broken.yaml'))}:2:1  \\(root\\)  YAML: .+$`)),
      `${shown(dir, 'consulate.yaml')}:2:9  listen.port  Invalid input: expected number, received string`,
      `${shown(dir, 'consulate.yaml')}:3:1  lisen  unknown key`,
    ]);
  });

  it('reports a missing consulate.yaml', () => {
    const dir = writeConfigDir({ 'clients/agent.yaml': baseFiles['clients/agent.yaml'] });
    expect(problemsOf(dir)).toEqual([{ file: shown(dir, 'consulate.yaml'), line: 1, col: 1, path: '', message: 'file not found' }]);
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('clients the operator does not list (metadata documents, registration)', () => {
  const main = (block: string) => `${baseFiles['consulate.yaml']}${block}`;

  it('an unknown resource, or a scope the resource does not have, at its line', () => {
    const unknown = main('dynamic_registration:\n  enabled: true\n  resources:\n    https://nowhere.example:\n      scopes: [read]\n');
    expect(onlyProblem({ 'consulate.yaml': unknown }).problem).toMatchObject({ ...positionOf(unknown, 'https://nowhere.example'), message: 'unknown resource https://nowhere.example' });
    const scope = main('client_id_metadata_documents:\n  resources:\n    https://api.example:\n      scopes: [read, write]\n');
    expect(onlyProblem({ 'consulate.yaml': scope }).problem).toMatchObject({ ...positionOf(scope, 'write'), message: 'resource https://api.example has no scope "write"' });
  });

  it('a ca_file that is missing or holds no certificate, at its value', () => {
    const text = main('client_id_metadata_documents:\n  ca_file: extra-ca.pem\n');
    expect(onlyProblem({ 'consulate.yaml': text }).problem).toMatchObject({ ...positionOf(text, 'extra-ca.pem'), message: 'file not found: extra-ca.pem' });
    expect(onlyProblem({ 'consulate.yaml': text, 'extra-ca.pem': 'not a certificate\n' }).problem).toMatchObject({ message: 'extra-ca.pem holds no PEM certificate' });
    expect(loadConfig(writeConfigDir({ ...baseFiles, 'consulate.yaml': text, 'extra-ca.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' }), { env: {} }).main.client_id_metadata_documents.ca_file).toBe('extra-ca.pem');
  });
});
