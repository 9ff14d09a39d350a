// A config problem names file, line and column, the key path, and what is wrong.
export type ConfigProblem = { file: string; line: number; col: number; path: string; message: string };

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`${problems.length} config problem${problems.length === 1 ? '' : 's'}:\n${formatProblems(problems)}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const text = String(key);
    if (/^[A-Za-z_][\w-]*$/.test(text)) return out ? `${out}.${text}` : text;
    return `${out}[${JSON.stringify(text)}]`;
  }, '');

export const formatProblems = (problems: readonly ConfigProblem[]): string =>
  problems.map((p) => `${p.file}:${p.line}:${p.col}  ${p.path || '(root)'}  ${p.message}`).join('\n');
