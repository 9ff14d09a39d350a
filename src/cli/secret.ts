import type { Command } from 'commander';
import { generateSecret, hashSecret } from '../clients/secrets.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** `consulate secret …` under `secret`, the group command index.ts made (name and description there). */
export function registerSecretCommands(secret: Command): void {
  secret
    .command('generate')
    .description('generate a 256-bit client secret; prints the secret (give it to the client) and its hash (put it in secret_hash)')
    .action(() => {
      const { secret: value, hash } = generateSecret();
      process.stdout.write(`secret:      ${value}\nsecret_hash: ${hash}\n`);
    });

  secret
    .command('hash')
    .description('hash a secret read from standard input (sha256 for 32+ characters, scrypt for shorter ones)')
    .action(async () => {
      const value = await readStdin();
      if (!value) {
        process.stderr.write('no secret on standard input\n');
        process.exit(2);
      }
      process.stdout.write(`${hashSecret(value)}\n`);
    });
}
