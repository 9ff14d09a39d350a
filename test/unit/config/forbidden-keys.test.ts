// Keys that could reach object prototypes are refused wherever they appear, and loading a file
// that uses them changes no prototype.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { formatProblems } from '../../../src/config/problems.ts';
import { baseFiles, positionOf, problemsOf, removeConfigDirs, shown, writeConfigDir } from './support.ts';

afterEach(() => {
  removeConfigDirs();
  // Belt and braces: never let a failing test leave pollution behind for other tests.
  delete (Object.prototype as Record<string, unknown>).polluted;
});

const isPolluted = () => 'polluted' in {} || (Object.prototype as Record<string, unknown>).polluted !== undefined;

describe('forbidden keys', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s at the top level, pointing at the key', (key) => {
    const text = `listen:\n  port: 8080\n${key}:\n  polluted: true\n`;
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': text });
    const problems = problemsOf(dir);
    expect(problems, formatProblems(problems)).toEqual([
      { file: shown(dir, 'consulate.yaml'), ...positionOf(text, key), path: key, message: `key "${key}" is not allowed` },
    ]);
    expect(isPolluted()).toBe(false);
  });

  it('refuses them nested in maps, in records and in lists, each once', () => {
    const main = 'listen:\n  constructor:\n    prototype:\n      polluted: true\n';
    const resource = [
      'resource: https://api.example',
      'scopes:',
      '  read: Read things',
      '  __proto__: { polluted: true }',
      'authorization_details_types:',
      '  tool:',
      '    schema:',
      '      type: object',
      '      allOf:',
      '        - __proto__: { polluted: true }',
      '',
    ].join('\n');
    const client = baseFiles['clients/agent.yaml'].replace('    scopes: [read]', '    __proto__: { polluted: true }\n    scopes: [read]');
    const dir = writeConfigDir({ ...baseFiles, 'consulate.yaml': main, 'resources/api.yaml': resource, 'clients/agent.yaml': client });
    const problems = problemsOf(dir);
    expect(problems.map((p) => `${p.file}:${p.line}:${p.col}  ${p.path}  ${p.message}`)).toEqual([
      `${shown(dir, 'clients/agent.yaml')}:6:5  resources["https://api.example"].__proto__  key "__proto__" is not allowed`,
      `${shown(dir, 'consulate.yaml')}:2:3  listen.constructor  key "constructor" is not allowed`,
      `${shown(dir, 'resources/api.yaml')}:4:3  scopes.__proto__  key "__proto__" is not allowed`,
      `${shown(dir, 'resources/api.yaml')}:10:11  authorization_details_types.tool.schema.allOf[0].__proto__  key "__proto__" is not allowed`,
    ]);
    expect(isPolluted()).toBe(false);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('allows the words as values and inside longer keys', () => {
    const resource = 'resource: https://api.example\nname: constructor\nscopes:\n  read: Read things\n  my__proto__: prototype\n';
    const dir = writeConfigDir({ ...baseFiles, 'resources/api.yaml': resource });
    const config = loadConfig(dir, { env: {} });
    expect(config.resources.get('https://api.example')?.name).toBe('constructor');
    expect(config.resources.get('https://api.example')?.scopes).toEqual({ read: 'Read things', my__proto__: 'prototype' });
  });
});
