// `consulate policy explain <sample.json>`: what the policies of config/policies/ decide for a
// sample request (see src/obligations/sample.ts for its shape): each rule checked, the one that
// matched and what it returned. A readable table, or --json.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import { evaluatePolicies } from '../obligations/evaluate.ts';
import { compiledPolicies } from '../obligations/policies.ts';
import { readPolicySample } from '../obligations/sample.ts';
import type { PolicyDecision } from '../obligations/types.ts';
import { configOption, reportConfigError } from './serve.ts';

export function decisionLine(decision: PolicyDecision): string {
  const by = decision.rule !== undefined ? ` by ${decision.policy}/${decision.rule}` : '';
  switch (decision.decision) {
    case 'allow':
      return `decision: allow${by || ' (no policy)'}`;
    case 'deny':
      return `decision: deny${by}: ${decision.reason}`;
    case 'obligations': {
      const parts: string[] = [];
      if (decision.stepUp) parts.push(`step_up (${[decision.stepUp.acr !== undefined ? `acr ${decision.stepUp.acr}` : '', decision.stepUp.maxAge !== undefined ? `max_age ${decision.stepUp.maxAge}` : ''].filter(Boolean).join(', ')})`);
      if (decision.consent) parts.push(`consent of ${JSON.stringify(decision.consent.approvers)}${decision.consent.validitySeconds !== undefined ? ` within ${decision.consent.validitySeconds} s` : ''}`);
      return `decision: obligations${by}: ${parts.join(' and ')}`;
    }
  }
}

function traceTable(decision: PolicyDecision): string {
  const rows = [['policy', 'rule', 'outcome', 'when'], ...decision.trace.map((t) => [t.policy, t.rule, t.note ? `${t.outcome}: ${t.note}` : t.outcome, t.when.length > 80 ? `${t.when.slice(0, 77)}...` : t.when])];
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(rows[0] as string[]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** `consulate policy …` under `policy`, the group command index.ts made (name and description there). */
export function registerPolicyCommands(policy: Command): void {
  configOption(
    policy
      .command('explain')
      .description('show which policy rule matches a sample request and what it returns')
      .argument('<file>', 'JSON sample: {"client": "<client_id>", "person": {...}, "scopes": [...], "resource": "...", "details": [...], "grant": "token_exchange", "risk": {"new_agent": false, "chain": 0}}; - for standard input'),
  )
    .option('--json', 'print the decision as JSON')
    .action((file: string, flags: { config: string; json?: boolean }) => {
      let config;
      try {
        config = loadConfig(flags.config);
      } catch (error) {
        reportConfigError(error);
      }
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (error) {
        process.stderr.write(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(2);
      }
      const sample = readPolicySample(text, config.clients);
      if (!sample.ok) {
        process.stderr.write(`bad sample ${file}: ${sample.message}\n`);
        process.exit(2);
      }
      const decision = evaluatePolicies(compiledPolicies(config), sample.input);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(decision, null, 2)}\n`);
        return;
      }
      const files = [...config.policies.values()].map((p) => p.source.file);
      process.stdout.write(`policies: ${files.join(', ') || 'none'}\n\n${decision.trace.length ? `${traceTable(decision)}\n\n` : ''}${decisionLine(decision)}\n`);
    });
}
