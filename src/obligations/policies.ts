// Policies in config (config/policies/*.yaml, one policy per file, its id the file name without
// .yaml): compiled when the config loads, so that a CEL syntax, type or bounds error is a config
// problem at its file:line:col; and the compiled list in file-name order for evaluation.
import type { Config, Located } from '../config/types.ts';
import type { ConfigProblem } from '../config/problems.ts';
import type { PolicyConfig } from '../config/schema.ts';
import { compilePolicy } from './compile.ts';
import type { CompiledPolicy } from './types.ts';

/** The id of the policy in `file` (a path or a name). */
export const policyIdOf = (file: string): string => (file.split(/[\\/]/).at(-1) ?? file).replace(/\.ya?ml$/, '');

export function checkPolicies(policies: ReadonlyMap<string, Located<PolicyConfig>>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [id, policy] of policies) {
    const compiled = compilePolicy(id, policy);
    if (!compiled.ok) for (const problem of compiled.problems) problems.push(policy.source.problem(problem.path, problem.message));
  }
  return problems;
}

/** The config's policies, compiled (once per loaded config: compilePolicy caches by config object). */
export function compiledPolicies(config: Pick<Config, 'policies'>): CompiledPolicy[] {
  const out: CompiledPolicy[] = [];
  for (const [id, policy] of config.policies) {
    const compiled = compilePolicy(id, policy);
    // loadConfig refused the config if it did not compile.
    if (!compiled.ok) throw new Error(`policy ${id} does not compile: ${compiled.problems.map((p) => p.message).join('; ')}`);
    out.push(compiled.policy);
  }
  return out;
}
