// The ssf: block of consulate.yaml: off by default; when on, the resource receivers' Passports are
// for must be declared with an `ssf` scope, reported where the operator has to look.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { formatProblems } from '../../../src/config/problems.ts';
import { baseFiles, problemsOf, removeConfigDirs, shown, writeConfigDir } from './support.ts';

afterEach(removeConfigDirs);

const main = (lines: string[]) => `${baseFiles['consulate.yaml']}${lines.join('\n')}\n`;
const ssfResource = ['resource: https://ssf.example', 'scopes:', '  ssf: Receive security events', ''].join('\n');

describe('ssf config', () => {
  it('is off by default, with its documented defaults', () => {
    const config = loadConfig(writeConfigDir({ ...baseFiles }));
    expect(config.main.ssf).toMatchObject({ enabled: false, delivery_methods: ['push', 'poll'], retention_seconds: 604800, push: { max_attempts: 10 } });
  });

  it('on, with its resource declared with the ssf scope: loads', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main(['ssf:', '  enabled: true', '  resource: https://ssf.example']), 'resources/ssf.yaml': ssfResource });
    expect(loadConfig(dir).main.ssf.resource).toBe('https://ssf.example');
  });

  it('on, with the default resource <issuer>/ssf missing: one problem at ssf.enabled', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main(['issuer: https://id.example', 'ssf:', '  enabled: true']) });
    const problems = problemsOf(dir);
    expect(problems, formatProblems(problems)).toEqual([expect.objectContaining({ file: shown(dir, 'consulate.yaml'), path: 'ssf.enabled', message: expect.stringContaining('https://id.example/ssf is not declared') })]);
  });

  it('on, with a resource that has no ssf scope: one problem at that resource', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main(['ssf:', '  enabled: true', '  resource: https://api.example']) });
    const problems = problemsOf(dir);
    expect(problems, formatProblems(problems)).toEqual([expect.objectContaining({ file: shown(dir, 'resources/api.yaml'), path: 'scopes', message: expect.stringContaining('"ssf" scope') })]);
  });

  it('refuses bad values: an empty delivery list, a retention below a minute, an unknown key', () => {
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main(['ssf:', '  delivery_methods: []', '  retention_seconds: 5', '  resent: true']) });
    expect(problemsOf(dir).map((p) => p.path).sort()).toEqual(['ssf.delivery_methods', 'ssf.resent', 'ssf.retention_seconds']);
  });
});
