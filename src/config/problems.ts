// A config problem names file, line and column, the key path, and what is wrong.
export type ConfigProblem = { file: string; line: number; col: number; path: string; message: string };

/** Said when a file's own problems stopped the checks that compare files with each other. */
export const laterChecks = 'checks across files (resources, scopes, upstreams, mappings and their fixtures, policies) run once these are fixed';

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  /** What was not checked yet because of these problems (said after them), if anything. */
  readonly pending: string | undefined;
  constructor(problems: ConfigProblem[], pending?: string) {
    super(`${problems.length} config problem${problems.length === 1 ? '' : 's'}:\n${formatProblems(problems)}${pending ? `\n${pending}` : ''}`);
    this.name = 'ConfigError';
    this.problems = problems;
    this.pending = pending;
  }
}

/** The problems and a closing line: how many, and whether more checks follow once they are fixed. */
export const problemReport = (error: ConfigError, what?: string): string =>
  `${formatProblems(error.problems)}\n${error.problems.length} problem(s) in config${what ? `: ${what}` : ''}${error.pending ? `; ${error.pending}` : ''}`;

export const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const text = String(key);
    if (/^[A-Za-z_][\w-]*$/.test(text)) return out ? `${out}.${text}` : text;
    return `${out}[${JSON.stringify(text)}]`;
  }, '');

export const formatProblems = (problems: readonly ConfigProblem[]): string =>
  problems.map((p) => `${p.file}:${p.line}:${p.col}  ${p.path || '(root)'}  ${p.message}`).join('\n');
