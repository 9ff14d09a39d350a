// `consulate mapping explain <upstream> <file>`: what the upstream's rule set makes of a sample
// (upstream claims as JSON, or a raw upstream ID token, whose signature is not checked here):
// each canonical claim with the rule and expression that produced it, and any deny or require
// rule that fired. A readable table, or --json.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { compileRuleSet, mapClaims, type ClaimTrace, type MappingResult } from '../claims/engine.ts';
import { loadConfig } from '../config/load.ts';
import { ruleSetIdOf } from '../config/mappings.ts';
import { configOption, reportConfigError } from './serve.ts';

const jwtShape = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/;

/** A JSON object of claims, or the payload of a compact JWT. */
export function readSample(text: string): { claims: Record<string, unknown>; fromToken: boolean } {
  const trimmed = text.trim();
  const jwt = jwtShape.exec(trimmed);
  const json = jwt ? Buffer.from(jwt[1] as string, 'base64url').toString('utf8') : trimmed;
  const value = JSON.parse(json) as unknown;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('the sample must be a JSON object of claims, or an ID token');
  return { claims: value as Record<string, unknown>, fromToken: Boolean(jwt) };
}

const show = (value: unknown): string => {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return text === undefined ? '' : text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

export function formatTable(trace: readonly ClaimTrace[]): string {
  const rows = [['claim', 'value', 'from', 'rule', 'expression'], ...trace.map((t) => [t.claim, show(t.value), t.source, t.rule, t.expr ?? ''])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function outcomeLine(result: MappingResult): string {
  if (result.ok) return 'outcome: login allowed';
  if (result.reason === 'denied') return `outcome: login refused by deny[${result.rule}]: ${result.message}`;
  if (result.reason === 'missing') return `outcome: login refused: required claims missing: ${result.claims.join(', ')}`;
  return `outcome: login refused (${result.reason}): ${result.detail}`;
}

/** `consulate mapping …` under `mapping`, the group command index.ts made (name and description there). */
export function registerMappingCommands(mapping: Command): void {
  configOption(
    mapping
      .command('explain')
      .description("show what an upstream's rule set makes of sample upstream claims (JSON file) or a raw upstream ID token")
      .argument('<upstream>', 'upstream id (config/upstreams/)')
      .argument('<file>', 'JSON object of upstream claims, or a file holding an ID token; - for standard input'),
  )
    .option('--json', 'print the result as JSON')
    .action((upstreamId: string, file: string, flags: { config: string; json?: boolean }) => {
      let config;
      try {
        config = loadConfig(flags.config);
      } catch (error) {
        reportConfigError(error);
      }
      const upstream = config.upstreams.get(upstreamId);
      if (!upstream) {
        process.stderr.write(`no upstream ${upstreamId}; configured: ${[...config.upstreams.keys()].join(', ') || 'none'}\n`);
        process.exit(2);
      }
      let sample;
      try {
        sample = readSample(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (error) {
        process.stderr.write(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(2);
      }
      const ruleSetId = ruleSetIdOf(upstream);
      const compiled = compileRuleSet(config.mappings.get(ruleSetId)!);
      if (!compiled.ok) throw new Error('rule set does not compile'); // loadConfig reported it already
      const issuer = typeof sample.claims.iss === 'string' ? sample.claims.iss : upstream.issuer;
      const result = mapClaims(compiled.ruleSet, { upstream: { id: upstream.id, kind: upstream.kind, issuer }, claims: sample.claims });
      const trace = 'trace' in result ? result.trace : [];
      if (flags.json) {
        const body = { upstream: upstream.id, rule_set: ruleSetId, signature_checked: false, outcome: result.ok ? 'allowed' : result.reason, ...(result.ok ? { canonical: result.canonical } : {}), ...(!result.ok && result.reason === 'denied' ? { denied_by: result.rule, message: result.message } : {}), ...(!result.ok && result.reason === 'missing' ? { missing: result.claims } : {}), ...(!result.ok && 'detail' in result ? { detail: result.detail } : {}), trace };
        process.stdout.write(`${JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
        return;
      }
      const source = config.mappings.get(ruleSetId)!.source.file;
      process.stdout.write(`upstream ${upstream.id} · rule set ${ruleSetId} (${source})${sample.fromToken ? ' · from an ID token, signature not checked' : ''}\n\n${formatTable(trace)}\n\n${outcomeLine(result)}\n`);
    });
}
