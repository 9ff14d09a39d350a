// Environment (and CLI) overrides for what differs between instances of one config:
// issuer, listen host/port, data directory, database URL, log level, metrics token. Flags win over environment.
import type { ConfigProblem } from './problems.ts';
import { mainConfigSchema, type MainConfig } from './schema.ts';
import type { YamlSource } from './yaml-source.ts';

export type Overrides = { issuer?: string; host?: string; port?: number; dataDir?: string; databaseUrl?: string; logLevel?: string };

const envNames: Record<string, string> = {
  issuer: 'CONSULATE_ISSUER',
  'listen.host': 'CONSULATE_HOST',
  'listen.port': 'CONSULATE_PORT',
  data_dir: 'CONSULATE_DATA_DIR',
  database_url: 'CONSULATE_DATABASE_URL',
  'log.level': 'LOG_LEVEL',
  'metrics.token': 'CONSULATE_METRICS_TOKEN',
};
const flagNames: Record<string, keyof Overrides> = {
  issuer: 'issuer',
  'listen.host': 'host',
  'listen.port': 'port',
  data_dir: 'dataDir',
  database_url: 'databaseUrl',
  'log.level': 'logLevel',
};

export function applyOverrides(
  main: MainConfig,
  env: NodeJS.ProcessEnv,
  flags: Overrides,
  source: YamlSource,
  problems: ConfigProblem[],
): MainConfig {
  // Decimal digits only: Number('') is 0 (any free port) and Number('0x1F90') is 8080; both must be problems.
  const envPort = env.CONSULATE_PORT;
  const port = flags.port ?? (envPort === undefined ? undefined : /^\d+$/.test(envPort) ? Number(envPort) : Number.NaN);
  const { source: _source, ...fields } = main as MainConfig & { source?: unknown };
  const candidate = {
    ...fields,
    issuer: flags.issuer ?? env.CONSULATE_ISSUER ?? main.issuer,
    listen: { host: flags.host ?? env.CONSULATE_HOST ?? main.listen.host, port: port ?? main.listen.port },
    data_dir: flags.dataDir ?? env.CONSULATE_DATA_DIR ?? main.data_dir,
    database_url: flags.databaseUrl ?? env.CONSULATE_DATABASE_URL ?? main.database_url,
    log: { level: flags.logLevel ?? env.LOG_LEVEL ?? main.log.level },
    metrics: { ...main.metrics, token: env.CONSULATE_METRICS_TOKEN ?? main.metrics.token },
  };
  const result = mainConfigSchema.safeParse(candidate);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.join('.');
      const variable = envNames[key];
      const origin = flagNames[key] && flags[flagNames[key]] !== undefined ? `the --${flagOf(key)} flag` : variable && env[variable] !== undefined ? variable : undefined;
      problems.push(source.problem(issue.path, origin ? `${issue.message} (value from ${origin})` : issue.message));
    }
    return main;
  }
  return result.data;
}

/** The flag's spelling of a config key: listen.port → port, data_dir → data-dir, log.level → log-level. */
const flagOf = (key: string): string => key.replace('listen.', '').replace(/[._]/g, '-');
