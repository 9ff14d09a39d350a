// Reads one YAML file keeping node positions, so every later problem can name file:line:col.
// Also resolves ${env:NAME} references and refuses keys that could pollute prototypes.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigProblem } from './problems.ts';
import { formatPath } from './problems.ts';

export type YamlSource = {
  file: string;
  value: unknown;
  /** Position of the node at `path`, or of its closest existing ancestor. */
  locate: (path: readonly PropertyKey[], key?: string) => { line: number; col: number };
  problem: (path: readonly PropertyKey[], message: string, key?: string) => ConfigProblem;
};

const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);
const envRef = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function readYamlSource(file: string, displayName: string, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): YamlSource | undefined {
  const text = readFileSync(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  const position = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, col: pos.col };
  };
  const locate = (path: readonly PropertyKey[], key?: string) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as unknown[], true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) {
        if (key !== undefined && depth === path.length && isMap(node)) {
          const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
          if (pair && isScalar(pair.key) && pair.key.range) return position(pair.key.range[0]);
        }
        return position(node.range[0]);
      }
    }
    return { line: 1, col: 1 };
  };
  const problem = (path: readonly PropertyKey[], message: string, key?: string): ConfigProblem => ({
    file: displayName,
    ...locate(path, key),
    path: formatPath(key === undefined ? path : [...path, key]),
    message,
  });

  const before = problems.length;
  for (const error of doc.errors) {
    const pos = position(error.pos[0]);
    problems.push({ file: displayName, ...pos, path: '', message: `YAML: ${error.message.split('\n')[0]}` });
  }
  if (problems.length > before) return undefined;

  checkNodes(doc, doc.contents, [], env, problem, problems);
  const value = doc.toJS({ maxAliasCount: 50 }) as unknown;
  return { file: displayName, value: resolveEnv(value, env), locate, problem };
}

// Walks the node tree once: forbidden keys and unset ${env:...} references become problems.
function checkNodes(
  doc: Document,
  node: unknown,
  path: PropertyKey[],
  env: NodeJS.ProcessEnv,
  problem: YamlSource['problem'],
  problems: ConfigProblem[],
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (forbiddenKeys.has(key)) {
        problems.push(problem(path, `key "${key}" is not allowed`, key));
        continue;
      }
      checkNodes(doc, pair.value, [...path, key], env, problem, problems);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => checkNodes(doc, item, [...path, index], env, problem, problems));
  } else if (isScalar(node) && typeof node.value === 'string') {
    for (const match of node.value.matchAll(envRef)) {
      const name = match[1] as string;
      if (env[name] === undefined) problems.push(problem(path, `environment variable ${name} is not set (referenced as \${env:${name}})`));
    }
  }
}

function resolveEnv(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') return value.replace(envRef, (_, name: string) => env[name] ?? '');
  if (Array.isArray(value)) return value.map((item) => resolveEnv(item, env));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = Object.create(null);
    // Forbidden keys are already problems (checkNodes); leaving them out keeps them from also being reported as unknown keys.
    for (const [key, item] of Object.entries(value)) if (!forbiddenKeys.has(key)) out[key] = resolveEnv(item, env);
    return { ...out };
  }
  return value;
}
