// What differs between instances of one config comes from CONSULATE_* variables or CLI flags;
// flags win over the environment, which wins over the file. Bad overrides are problems too.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { baseFiles, positionOf, problemsOf, removeConfigDirs, shown, writeConfigDir } from './support.ts';

afterEach(removeConfigDirs);

const main = [
  'issuer: https://file.example',
  'listen:',
  '  host: 127.0.0.1',
  '  port: 8080',
  'data_dir: ./file-data',
  'database_url: sqlite:./file.db',
  '',
].join('\n');

const env = {
  CONSULATE_ISSUER: 'https://env.example',
  CONSULATE_PORT: '9090',
  CONSULATE_HOST: '0.0.0.0',
  CONSULATE_DATA_DIR: '/var/lib/consulate',
  CONSULATE_DATABASE_URL: 'sqlite:/var/lib/consulate/env.db',
};

describe('environment and flag overrides', () => {
  it('without overrides the file values stand', () => {
    const config = loadConfig(writeConfigDir({ ...baseFiles, 'consulate.yaml': main }), { env: {} });
    expect(config.main).toMatchObject({
      issuer: 'https://file.example',
      listen: { host: '127.0.0.1', port: 8080 },
      data_dir: './file-data',
      database_url: 'sqlite:./file.db',
    });
  });

  it('CONSULATE_* variables replace the file values', () => {
    const config = loadConfig(writeConfigDir({ ...baseFiles, 'consulate.yaml': main }), { env });
    expect(config.main).toMatchObject({
      issuer: 'https://env.example',
      listen: { host: '0.0.0.0', port: 9090 },
      data_dir: '/var/lib/consulate',
      database_url: 'sqlite:/var/lib/consulate/env.db',
    });
  });

  it('each variable applies on its own', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main });
    expect(loadConfig(dir, { env: { CONSULATE_PORT: '0' } }).main.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(loadConfig(dir, { env: { CONSULATE_HOST: '::1' } }).main.listen).toEqual({ host: '::1', port: 8080 });
    expect(loadConfig(dir, { env: { CONSULATE_DATA_DIR: '/tmp/x' } }).main).toMatchObject({ data_dir: '/tmp/x', database_url: 'sqlite:./file.db' });
  });

  it('overrides apply when the file leaves the keys out', () => {
    const config = loadConfig(writeConfigDir({ ...baseFiles, 'consulate.yaml': 'log:\n  level: warn\n' }), { env });
    expect(config.main).toMatchObject({ issuer: 'https://env.example', listen: { host: '0.0.0.0', port: 9090 }, log: { level: 'warn' } });
  });

  it('flags win over the environment', () => {
    const config = loadConfig(writeConfigDir({ ...baseFiles, 'consulate.yaml': main }), {
      env,
      overrides: { issuer: 'http://127.0.0.1:1', host: '::1', port: 7000, dataDir: './flag-data', databaseUrl: 'sqlite:./flag.db' },
    });
    expect(config.main).toMatchObject({
      issuer: 'http://127.0.0.1:1',
      listen: { host: '::1', port: 7000 },
      data_dir: './flag-data',
      database_url: 'sqlite:./flag.db',
    });
  });

  it('a flag overrides only its own key', () => {
    const config = loadConfig(writeConfigDir({ ...baseFiles, 'consulate.yaml': main }), { env, overrides: { port: 7000 } });
    expect(config.main).toMatchObject({ issuer: 'https://env.example', listen: { host: '0.0.0.0', port: 7000 } });
  });

  it('LOG_LEVEL sets the log level over the file, and --log-level over both', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': 'log:\n  level: info\n' });
    expect(loadConfig(dir, { env: {} }).main.log.level).toBe('info');
    expect(loadConfig(dir, { env: { LOG_LEVEL: 'warn' } }).main.log.level).toBe('warn');
    expect(loadConfig(dir, { env: { LOG_LEVEL: 'warn' }, overrides: { logLevel: 'debug' } }).main.log.level).toBe('debug');
  });

  it('the overridden config is still frozen', () => {
    const config = loadConfig(writeConfigDir({ ...baseFiles, 'consulate.yaml': main }), { env });
    expect(Object.isFrozen(config.main)).toBe(true);
    expect(Object.isFrozen(config.main.listen)).toBe(true);
  });
});

describe('invalid overrides', () => {
  it('CONSULATE_PORT=notaport is a problem at listen.port', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main });
    expect(problemsOf(dir, { env: { CONSULATE_PORT: 'notaport' } })).toEqual([
      {
        file: shown(dir, 'consulate.yaml'),
        ...positionOf(main, '8080'),
        path: 'listen.port',
        message: expect.stringContaining('(value from CONSULATE_PORT)'),
      },
    ]);
  });

  it.each([
    ['a port out of range', { CONSULATE_PORT: '70000' }, 'listen.port'],
    ['a fractional port', { CONSULATE_PORT: '80.5' }, 'listen.port'],
    // Number('') is 0: an empty variable must not silently mean "any free port".
    ['an empty port', { CONSULATE_PORT: '' }, 'listen.port'],
    ['a port in hex', { CONSULATE_PORT: '0x1F90' }, 'listen.port'],
    ['an http issuer on a public host', { CONSULATE_ISSUER: 'http://auth.example.com' }, 'issuer'],
    ['an issuer that is no URL', { CONSULATE_ISSUER: 'auth.example.com' }, 'issuer'],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, 'log.level'],
  ])('%s is a problem', (_, overrideEnv, path) => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main });
    const variable = Object.keys(overrideEnv)[0];
    expect(problemsOf(dir, { env: overrideEnv }).map((p) => [p.path, p.message.endsWith(`(value from ${variable})`)])).toEqual([[path, true]]);
  });

  it('a bad --port flag is a problem even when CONSULATE_PORT is fine', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main });
    expect(problemsOf(dir, { env: { CONSULATE_PORT: '9090' }, overrides: { port: Number.NaN } }).map((p) => [p.path, p.message.endsWith('(value from the --port flag)')])).toEqual([['listen.port', true]]);
  });

  it('a bad --log-level flag names the flag', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main });
    expect(problemsOf(dir, { env: {}, overrides: { logLevel: 'chatty' } }).map((p) => [p.path, p.message.endsWith('(value from the --log-level flag)')])).toEqual([['log.level', true]]);
  });

  it('database_url is sqlite:, postgres:// or postgresql://; the database settings have defaults', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main });
    for (const url of ['postgres://c:pw@db.internal:5432/consulate', 'postgresql://c@127.0.0.1/consulate']) {
      expect(loadConfig(dir, { env: { CONSULATE_DATABASE_URL: url } }).main).toMatchObject({ database_url: url, database: { pool_size: 10, statement_timeout_ms: 5000 } });
    }
    expect(problemsOf(dir, { env: { CONSULATE_DATABASE_URL: 'mysql://c@db/consulate' } }).map((p) => [p.path, p.message.endsWith('(value from CONSULATE_DATABASE_URL)')])).toEqual([['database_url', true]]);
    const tuned = writeConfigDir({ ...baseFiles, 'consulate.yaml': 'database:\n  pool_size: 25\n  statement_timeout_ms: 2000\n' });
    expect(loadConfig(tuned, { env: {} }).main.database).toEqual({ pool_size: 25, statement_timeout_ms: 2000, busy_timeout_ms: 250 });
  });

  it('a bad override is still reported when the file has no such key', () => {
    const text = 'log:\n  level: info\n';
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': text });
    expect(problemsOf(dir, { env: { CONSULATE_ISSUER: 'http://auth.example.com' } })).toEqual([
      { file: shown(dir, 'consulate.yaml'), line: 1, col: 1, path: 'issuer', message: expect.stringContaining('https') },
    ]);
  });
});
