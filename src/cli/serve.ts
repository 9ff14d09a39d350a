import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import type { Overrides } from '../config/overrides.ts';
import { ConfigError, formatProblems, problemReport } from '../config/problems.ts';
import { weakSecretWarnings } from '../config/secret-strength.ts';
import type { RunningDemo } from '../demo/serve-demo.ts';
import { ListenError } from '../http/listen.ts';
import { startServer } from '../main.ts';
import { DatabaseUnreachableError, UnknownMigrationError } from '../store/open.ts';

export const defaultConfigDir = () => process.env.CONSULATE_CONFIG_DIR ?? './config';

export function configOption(command: Command): Command {
  return command.option('-c, --config <dir>', 'config directory (env CONSULATE_CONFIG_DIR)', defaultConfigDir());
}

/** Strict whole-number option parsing: "80x" or "0x50" are errors, not 80. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

export function overrideOptions(command: Command): Command {
  return command
    .option('--issuer <url>', 'issuer URL (env CONSULATE_ISSUER)')
    .option('--host <host>', 'listen address (env CONSULATE_HOST)')
    .option('--port <port>', 'listen port, 0 for any free port (env CONSULATE_PORT)', wholeNumber)
    .option('--data-dir <dir>', 'directory of the embedded database and keys (env CONSULATE_DATA_DIR)')
    .option('--database-url <url>', 'database URL, e.g. sqlite:./data/consulate.db (env CONSULATE_DATABASE_URL)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env LOG_LEVEL)');
}

type ServeFlags = { config: string; issuer?: string; host?: string; port?: number; dataDir?: string; databaseUrl?: string; logLevel?: string; demo?: boolean };

export const toOverrides = (flags: ServeFlags): Overrides => ({
  ...(flags.issuer !== undefined ? { issuer: flags.issuer } : {}),
  ...(flags.host !== undefined ? { host: flags.host } : {}),
  ...(flags.port !== undefined ? { port: flags.port } : {}),
  ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}),
  ...(flags.databaseUrl !== undefined ? { databaseUrl: flags.databaseUrl } : {}),
  ...(flags.logLevel !== undefined ? { logLevel: flags.logLevel } : {}),
});

export function reportConfigError(error: unknown): never {
  // A database that cannot be reached or is newer than this code, or a port taken: one line (no
  // stack, no password).
  if (error instanceof DatabaseUnreachableError || error instanceof UnknownMigrationError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  if (error instanceof ListenError) {
    const remedy = error.message.includes('(metrics.listen)') ? 'change metrics.listen in consulate.yaml' : 'choose another port with --port or CONSULATE_PORT';
    process.stderr.write(`${error.message}; ${remedy}\n`);
    process.exit(1);
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${problemReport(error)}\n`);
    process.exit(1);
  }
  throw error;
}

export async function serveCommand(flags: ServeFlags): Promise<void> {
  let server;
  try {
    server = await startServer({ configDir: flags.config, overrides: toOverrides(flags) });
  } catch (error) {
    reportConfigError(error);
  }
  // The demo (stand-in IdPs, demo app and API) is loaded only when asked for: it carries oidc-provider.
  let demo: RunningDemo | undefined;
  if (flags.demo) {
    try {
      demo = await (await import('../demo/serve-demo.ts')).startDemo(server);
    } catch (error) {
      await server.close();
      const why =
        error instanceof ListenError
          ? `${error.message}; is another \`consulate serve --demo\` (npm start) running? The demo's stand-ins use fixed ports: run a second instance without --demo`
          : missingDevPackage(error)
            ? `the demo's stand-in IdPs need oidc-provider, a development dependency this install left out (npm ci --omit=dev); install with \`npm ci\` to run the demo`
            : error instanceof Error
              ? error.message
              : String(error);
      process.stderr.write(`could not start the demo: ${why}\n`);
      process.exit(1);
    }
  }
  const demoLines = demo?.lines ?? '';
  const elsewhere = issuerElsewhere(server.issuer, server.port);
  if (elsewhere) server.deps.log.warn({ issuer: server.issuer, port: server.port }, elsewhere);
  const { welcome } = server.config.main;
  process.stderr.write(`\nConsulate is running.\n  issuer:    ${server.issuer}\n${elsewhere ? `  warning:   ${elsewhere}\n` : ''}  discovery: ${server.issuer.replace(/\/$/, '')}/.well-known/openid-configuration\n${welcome ? `\n${welcome.trimEnd()}\n` : ''}${demoLines}\n`);
  const stop = (signal: string) => {
    process.stderr.write(`\n${signal}: shutting down\n`);
    Promise.all([server.close(), demo?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGHUP', () => void server.reload('sighup'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/** A module of the demo's own dependencies (devDependencies) is not installed. */
const missingDevPackage = (error: unknown): boolean => (error as NodeJS.ErrnoException | undefined)?.code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes("'oidc-provider'");

/**
 * A loopback issuer naming another port than the one listened on: a second instance started with
 * only CONSULATE_PORT changed would advertise the first one's URLs. (Behind a proxy the issuer is
 * not a loopback address, so this says nothing there.)
 */
export function issuerElsewhere(issuer: string, port: number): string | undefined {
  const url = new URL(issuer);
  if (!['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return undefined;
  const named = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (named === port) return undefined;
  return `the issuer names port ${named} but this server listens on ${port}: clients would be sent to the other port; set --issuer or CONSULATE_ISSUER (e.g. http://localhost:${port})`;
}

export function checkCommand(flags: { config: string }): void {
  try {
    const config = loadConfig(flags.config);
    const ruleSets = [...config.mappings.keys()].filter((id) => !id.startsWith('preset:')).length;
    const agents = [...config.clients.values()].filter((c) => c.kind === 'agent').length;
    process.stdout.write(
      `config OK: ${config.clients.size} client(s) (${agents} agent(s)), ${config.resources.size} resource(s), ${config.upstreams.size} upstream(s), ${config.issuers.size} trusted issuer(s), ${ruleSets} mapping rule set(s) (fixtures passed)\n`,
    );
    // Warnings (weak plain-text secrets) are said on stderr like problems, but do not fail the check.
    const warnings = weakSecretWarnings(config);
    if (warnings.length > 0) process.stderr.write(`${formatProblems(warnings)}\n${warnings.length} warning(s) in config\n`);
  } catch (error) {
    reportConfigError(error);
  }
}
