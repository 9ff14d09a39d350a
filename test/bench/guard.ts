// `npm run bench` (part 3): requests per second through the Passport guard (src/sdk/) against the
// same route without it, in one resource-server process measured in the same run: Bearer
// Passports, and DPoP-bound ones with a fresh proof per request (a pool made before the target,
// since each jti is accepted once). autocannon over loopback, BENCH_SECONDS / BENCH_CONNECTIONS.
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { accessTokenHashOf } from '../../src/dpop/proof.ts';
import { spawnServer } from './spawn.ts';
import { formatTable, toRows, type Measurement } from './report.ts';

const seconds = Number(process.env.BENCH_SECONDS || 10);
const connections = Number(process.env.BENCH_CONNECTIONS || 10);
const warmupSeconds = 2;

type Target = { name: string; path: string; headers: Record<string, string>; proofs?: string[] };

async function load(url: string, target: Target, duration: number): Promise<Measurement> {
  const latenciesMs: number[] = [];
  let exhausted = false;
  const instance = autocannon({
    url: `${url}${target.path}`,
    method: 'GET',
    headers: target.headers,
    connections,
    duration,
    ...(target.proofs
      ? {
          requests: [
            {
              setupRequest: (request) => {
                const proof = target.proofs!.pop();
                if (proof === undefined) exhausted = true;
                return { ...request, headers: { ...request.headers, dpop: proof ?? 'exhausted' } };
              },
            },
          ],
        }
      : {}),
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status === 200) latenciesMs.push(ms);
  });
  const result = await instance;
  if (exhausted) throw new Error(`${target.name}: the proof pool ran out`);
  if (result.non2xx || result.errors) throw new Error(`${target.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { target: target.name, requests: latenciesMs.length, seconds: result.duration, latenciesMs };
}

const server = await spawnServer('guard-server.ts');
try {
  const { token: bearer } = await server.ask<{ token: string }>({});
  const key = await generateKeyPair('ES256');
  const jwk = await exportJWK(key.publicKey);
  const { token: bound } = await server.ask<{ token: string }>({ jkt: await calculateJwkThumbprint(jwk, 'sha256') });
  const proofsFor = async (count: number) => {
    const iat = Math.floor(Date.now() / 1000);
    return Promise.all(
      Array.from({ length: count }, () =>
        new SignJWT({ jti: randomUUID(), htm: 'GET', htu: `${server.url}/guarded`, ath: accessTokenHashOf(bound) }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt(iat).sign(key.privateKey),
      ),
    );
  };
  const measurements: Measurement[] = [];
  const targets: (() => Promise<Target>)[] = [
    async () => ({ name: 'route without the guard', path: '/open', headers: {} }),
    async () => ({ name: 'guard, Bearer Passport', path: '/guarded', headers: { authorization: `Bearer ${bearer}` } }),
    async () => {
      // Sized from the Bearer rate (a proof check costs more than none) with a margin.
      const bearerRate = (measurements[1]?.requests ?? 0) / (measurements[1]?.seconds ?? 1);
      return { name: 'guard, DPoP Passport + proof', path: '/guarded', headers: { authorization: `DPoP ${bound}` }, proofs: await proofsFor(Math.ceil(bearerRate * (warmupSeconds + seconds) * 1.5) + 100) };
    },
  ];
  for (const make of targets) {
    const target = await make();
    console.error(`${target.name}: warm-up ${warmupSeconds} s, then measuring ${seconds} s…`);
    const check = await fetch(`${server.url}${target.path}`, { headers: { ...target.headers, ...(target.proofs ? { dpop: target.proofs.pop() as string } : {}) } });
    if (check.status !== 200) throw new Error(`${target.name}: expected 200, got ${check.status} ${await check.text()}`);
    await load(server.url, target, warmupSeconds);
    measurements.push(await load(server.url, target, seconds));
  }
  console.log(`\nPassport guard (src/sdk/): autocannon GET, ${connections} connections, ${warmupSeconds} s warm-up + ${seconds} s per target, Node ${process.version}.`);
  console.log('One resource-server process; the same JSON route with and without the guard.\n');
  console.log(formatTable(toRows(measurements)));
} catch (error) {
  console.error(`\nGUARD BENCHMARK FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await server.stop();
}
