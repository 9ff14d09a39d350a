// Environment (and CLI) overrides for what differs between instances of one config:
// issuer, listen host/port, data directory, database URL. Flags win over environment.
import type { ConfigProblem } from './problems.ts';
import { mainConfigSchema, type MainConfig } from './schema.ts';
import type { YamlSource } from './yaml-source.ts';

export type Overrides = { issuer?: string; host?: string; port?: number; dataDir?: string; databaseUrl?: string };

export function applyOverrides(
  main: MainConfig,
  env: NodeJS.ProcessEnv,
  flags: Overrides,
  source: YamlSource,
  problems: ConfigProblem[],
): MainConfig {
  const port = flags.port ?? (env.CONSULATE_PORT === undefined ? undefined : Number(env.CONSULATE_PORT));
  const { source: _source, ...fields } = main as MainConfig & { source?: unknown };
  const candidate = {
    ...fields,
    issuer: flags.issuer ?? env.CONSULATE_ISSUER ?? main.issuer,
    listen: { host: flags.host ?? env.CONSULATE_HOST ?? main.listen.host, port: port ?? main.listen.port },
    data_dir: flags.dataDir ?? env.CONSULATE_DATA_DIR ?? main.data_dir,
    database_url: flags.databaseUrl ?? env.CONSULATE_DATABASE_URL ?? main.database_url,
  };
  const result = mainConfigSchema.safeParse(candidate);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push({ ...source.problem(issue.path, `${issue.message} (after environment overrides)`) });
    }
    return main;
  }
  return result.data;
}
