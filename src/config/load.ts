// Loads the config directory: consulate.yaml, clients/, resources/, upstreams/, issuers/, mappings/, policies/ (*.yaml).
// Pipeline: 1 read YAML with positions  2 check shapes with zod  3 cross-check references
// 4 apply environment overrides  5 freeze. Every problem is collected and reported at once.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { z } from 'zod';
import { applyOverrides, type Overrides } from './overrides.ts';
import { checkOpenClients } from './open-clients-check.ts';
import { crossCheck } from './cross-check.ts';
import { ConfigError, laterChecks, type ConfigProblem } from './problems.ts';
import { fixtureFileSchema, type FixtureCase } from '../claims/engine.ts';
import { checkMappings, presetFiles } from './mappings.ts';
import { clientSchema, issuerSchema, mainConfigSchema, mappingSchema, policySchema, resourceSchema, upstreamSchema, type ClientConfig, type IssuerConfig, type MappingConfig, type PolicyConfig, type ResourceConfig, type UpstreamConfig } from './schema.ts';
import { checkPolicies, policyIdOf } from '../obligations/policies.ts';
import { readYamlSource } from './yaml-source.ts';
import type { Config, Located } from './types.ts';

export type { Config, Located } from './types.ts';

export type LoadOptions = { env?: NodeJS.ProcessEnv; overrides?: Overrides };

export function loadConfig(dir: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const root = resolve(dir);
  const problems: ConfigProblem[] = [];
  const show = (file: string) => relative(process.cwd(), file) || file;

  const mainFile = join(root, 'consulate.yaml');
  if (!existsSync(mainFile)) throw new ConfigError([{ file: show(mainFile), line: 1, col: 1, path: '', message: 'file not found' }]);

  const main = parseFile(mainFile, show(mainFile), mainConfigSchema, env, problems);
  const clients = listYaml(join(root, 'clients')).map((file) => parseFile(file, show(file), clientSchema, env, problems));
  const resources = listYaml(join(root, 'resources')).map((file) => parseFile(file, show(file), resourceSchema, env, problems));
  const upstreams = listYaml(join(root, 'upstreams')).map((file) => parseFile(file, show(file), upstreamSchema, env, problems));
  const issuers = listYaml(join(root, 'issuers')).map((file) => parseFile(file, show(file), issuerSchema, env, problems));
  // Fixture files live next to their rule sets (<id>.fixtures.yaml); they are tests, not rule sets.
  const mappingFiles = listYaml(join(root, 'mappings')).filter((file) => !/\.fixtures\.ya?ml$/.test(file));
  const mappings = mappingFiles.map((file) => parseFile(file, show(file), mappingSchema, env, problems));
  const fixtures = new Map<string, Located<{ cases: FixtureCase[] }>>();
  mappingFiles.forEach((file, i) => {
    const fixtureFile = file.replace(/\.ya?ml$/, '.fixtures.yaml');
    const id = mappings[i]?.id;
    if (id === undefined || !existsSync(fixtureFile)) return;
    const parsed = parseFile(fixtureFile, show(fixtureFile), fixtureFileSchema.transform((cases) => ({ cases })), env, problems);
    if (parsed) fixtures.set(id, parsed);
  });
  const policyFiles = listYaml(join(root, 'policies'));
  const policies = policyFiles.map((file) => parseFile(file, show(file), policySchema, env, problems));
  const presets = new Map<string, Located<MappingConfig>>();
  for (const [id, file] of presetFiles()) {
    const preset = parseFile(file, show(file), mappingSchema, env, problems);
    if (preset) presets.set(id, Object.assign(preset, { id }));
  }

  // Each file alone first; comparing files with each other needs every file readable, or it would
  // report references to a broken file as unknown. Say so rather than look complete.
  const crossChecked = problems.length === 0 && main !== undefined;
  if (crossChecked) {
    const located = {
      main,
      clients: clients.filter((c): c is Located<ClientConfig> => c !== undefined),
      resources: resources.filter((r): r is Located<ResourceConfig> => r !== undefined),
      upstreams: upstreams.filter((u): u is Located<UpstreamConfig> => u !== undefined),
      issuers: issuers.filter((i): i is Located<IssuerConfig> => i !== undefined),
    };
    problems.push(...crossCheck(located));
    problems.push(...checkOpenClients(main, new Map(located.resources.map((r) => [r.resource, r])), root));
    const mapped = checkMappings(
      mappings.filter((m): m is Located<MappingConfig> => m !== undefined),
      presets,
      located.upstreams,
      fixtures,
    );
    problems.push(...mapped.problems);
    const policyMap = new Map(policies.flatMap((p, i): [string, Located<PolicyConfig>][] => (p ? [[policyIdOf(policyFiles[i] as string), p]] : [])));
    problems.push(...checkPolicies(policyMap));
    for (const issuer of located.issuers) {
      if (issuer.mapping !== undefined && !mapped.ruleSets.has(issuer.mapping)) problems.push(issuer.source.problem(['mapping'], `no rule set ${issuer.mapping} in mappings/`));
    }
    if (problems.length === 0) {
      const config: Config = {
        dir: root,
        main: applyOverrides(main, env, options.overrides ?? {}, main.source, problems),
        clients: new Map(located.clients.map((c) => [c.client_id, c])),
        resources: new Map(located.resources.map((r) => [r.resource, r])),
        upstreams: new Map(located.upstreams.map((u) => [u.id, u])),
        issuers: new Map(located.issuers.map((i) => [i.id, i])),
        mappings: mapped.ruleSets,
        policies: policyMap,
      };
      if (problems.length === 0) return deepFreeze(config);
    }
  }
  throw new ConfigError(
    problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col),
    crossChecked ? undefined : laterChecks,
  );
}

function listYaml(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name) && !name.startsWith('.'))
    .sort()
    .map((name) => join(dir, name));
}

function parseFile<S extends z.ZodType>(
  file: string,
  display: string,
  schema: S,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
): Located<z.output<S>> | undefined {
  const source = readYamlSource(file, display, env, problems);
  if (!source) return undefined;
  const result = schema.safeParse(source.value ?? {});
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) problems.push(source.problem(issue.path, 'unknown key', key));
      } else {
        problems.push(source.problem(issue.path, issue.message));
      }
    }
    return undefined;
  }
  return Object.assign(result.data as object, { source }) as Located<z.output<S>>;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    if (value instanceof Map) {
      for (const item of value.values()) deepFreeze(item);
      // Object.freeze does not stop Map mutation; a loaded config is read-only at run time too.
      const readOnly = () => {
        throw new TypeError('config is read-only');
      };
      Object.assign(value, { set: readOnly, delete: readOnly, clear: readOnly });
    } else {
      for (const [key, item] of Object.entries(value)) if (key !== 'source') deepFreeze(item);
    }
    Object.freeze(value);
  }
  return value;
}
