// Consulate server for the benchmark: startServer() from src/main.ts on 127.0.0.1:0 with the test
// fixture config copied into BENCH_DIR (as the e2e tests do), a SQLite store in BENCH_DIR/data and
// the fixture client secret hashes. Request logs are produced at level info and discarded.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parse, stringify } from 'yaml';
import { createLogger } from '../../src/log.ts';
import { startServer } from '../../src/main.ts';
import { fixtureEnv, makeConfigDir } from '../e2e/support/consulate.ts';
import { announce } from './child.ts';

const dir = process.env.BENCH_DIR;
if (!dir) throw new Error('BENCH_DIR is required');

// The fixture re-reads signing keys every 50 ms (for rotation tests); benchmark the default instead.
const main = parse(readFileSync(resolve(import.meta.dirname, '../fixtures/config/consulate.yaml'), 'utf8')) as { keys?: Record<string, unknown> };
delete main.keys?.reload_seconds;
const { configDir, dataDir } = makeConfigDir({ 'consulate.yaml': stringify(main) }, dir);

const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
const server = await startServer({
  configDir,
  env: fixtureEnv(),
  overrides: { dataDir, host: '127.0.0.1', port: 0 },
  log: createLogger('info', discard),
});
announce(server.url, () => server.close());
