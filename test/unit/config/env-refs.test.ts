// ${env:NAME} references: resolved from the environment given to loadConfig (never silently empty).
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { baseFiles, positionOf, problemsOf, removeConfigDirs, shown, validSecretHash, writeConfigDir } from './support.ts';

afterEach(removeConfigDirs);

const agentWithRef = [
  'client_id: agent',
  'token_endpoint_auth_method: client_secret_basic',
  'secret_hash: ${env:AGENT_SECRET_HASH}',
  'resources:',
  '  https://api.example:',
  '    scopes: [read]',
  '',
].join('\n');

describe('${env:NAME} references', () => {
  it('resolve from the env passed to loadConfig', () => {
    const dir = writeConfigDir({ ...baseFiles, 'clients/agent.yaml': agentWithRef, 'consulate.yaml': 'issuer: https://${env:AUTH_HOST}/tenant\n' });
    const config = loadConfig(dir, { env: { AGENT_SECRET_HASH: validSecretHash, AUTH_HOST: 'auth.example.com' } });
    expect(config.clients.get('agent')?.secret_hash).toBe(validSecretHash);
    expect(config.main.issuer).toBe('https://auth.example.com/tenant');
  });

  it('do not read process.env when an env is given', () => {
    process.env.AGENT_SECRET_HASH = validSecretHash;
    try {
      const dir = writeConfigDir({ ...baseFiles, 'clients/agent.yaml': agentWithRef });
      expect(problemsOf(dir, { env: {} }).map((p) => p.path)).toContain('secret_hash');
    } finally {
      delete process.env.AGENT_SECRET_HASH;
    }
  });

  it('an unset variable is a problem naming the variable, at the value that references it', () => {
    const dir = writeConfigDir({ ...baseFiles, 'clients/agent.yaml': agentWithRef });
    const problems = problemsOf(dir, { env: { OTHER: 'x' } });
    expect(problems).toContainEqual({
      file: shown(dir, 'clients/agent.yaml'),
      ...positionOf(agentWithRef, '${env:'),
      path: 'secret_hash',
      message: 'environment variable AGENT_SECRET_HASH is not set (referenced as ${env:AGENT_SECRET_HASH})',
    });
  });

  it('every unset variable is reported, in every file', () => {
    const main = 'issuer: ${env:ISSUER}\ndata_dir: ${env:DATA_ROOT}/consulate\n';
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main, 'clients/agent.yaml': agentWithRef });
    const unset = problemsOf(dir).filter((p) => p.message.startsWith('environment variable'));
    expect(unset.map((p) => [p.file, p.line, p.col, p.path, p.message.split(' ')[2]])).toEqual([
      [shown(dir, 'clients/agent.yaml'), 3, 14, 'secret_hash', 'AGENT_SECRET_HASH'],
      [shown(dir, 'consulate.yaml'), 1, 9, 'issuer', 'ISSUER'],
      [shown(dir, 'consulate.yaml'), 2, 11, 'data_dir', 'DATA_ROOT'],
    ]);
  });

  it('a variable set to an empty string counts as set', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': 'data_dir: ./data${env:SUFFIX}\n' });
    expect(loadConfig(dir, { env: { SUFFIX: '' } }).main.data_dir).toBe('./data');
  });
});
