// Weak secrets among those the config holds in plain text (issue 17 §2: `consulate check` warns
// about human-chosen secrets below 128 bits): Consulate's client secrets at its upstreams and at
// their introspection endpoints, and the approvals webhook's signing key, written in the YAML or
// given through ${env:NAME}. Consulate's own clients' secrets are configured only as hashes, which
// cannot be measured: nothing is said about them. A warning, not a problem: the config still loads.
import { join, relative } from 'node:path';
import type { Config } from './load.ts';
import type { ConfigProblem } from './problems.ts';
import { readYamlSource } from './yaml-source.ts';

export const minSecretBits = 128;

/** Printable ASCII by class; anything else counts as one more class of 128 characters. */
const classes: readonly { pattern: RegExp; size: number }[] = [
  { pattern: /[a-z]/, size: 26 },
  { pattern: /[A-Z]/, size: 26 },
  { pattern: /[0-9]/, size: 10 },
  { pattern: /[ -/:-@[-`{-~]/, size: 33 },
  { pattern: /[^ -~]/u, size: 128 },
];

/**
 * An upper bound of a secret's entropy: length × log2(the sizes of the character classes it uses
 * added up), as if each character were drawn at random from all of them. A person's choice has far
 * less ("Summer2024!" scores 72); below the bound's 128 bits a secret is weak whatever its origin.
 */
export function secretBits(secret: string): number {
  const alphabet = classes.reduce((sum, { pattern, size }) => (pattern.test(secret) ? sum + size : sum), 0);
  return alphabet === 0 ? 0 : [...secret].length * Math.log2(alphabet);
}

const warning = (bits: number): string =>
  `weak secret: at most ${Math.floor(bits)} bits of entropy (estimated from its length and kinds of characters); use a random one of at least ${minSecretBits} bits, e.g. from \`openssl rand -base64 32\``;

/** One line per weak secret, at the place in the YAML that gives it (the value or its ${env:NAME}). */
export function weakSecretWarnings(config: Config): ConfigProblem[] {
  const found: ConfigProblem[] = [];
  /** `place`: where the secret is given, asked for only when there is something to say. */
  const check = (secret: string | undefined, place: () => (message: string) => ConfigProblem) => {
    if (secret === undefined) return;
    const bits = secretBits(secret);
    if (bits < minSecretBits) found.push(place()(warning(bits)));
  };
  for (const upstream of config.upstreams.values()) {
    check(upstream.client_secret, () => (message) => upstream.source.problem(['client_secret'], message));
    check(upstream.exchange?.introspection?.client_secret, () => (message) => upstream.source.problem(['exchange', 'introspection', 'client_secret'], message));
  }
  check(config.main.approvals.webhook?.secret, () => {
    // The loaded main config keeps no positions: read consulate.yaml again, named as loadConfig names it.
    const file = join(config.dir, 'consulate.yaml');
    const source = readYamlSource(file, relative(process.cwd(), file) || file, {}, []);
    return (message) => source?.problem(['approvals', 'webhook', 'secret'], message) ?? { file, line: 1, col: 1, path: 'approvals.webhook.secret', message };
  });
  return found;
}
