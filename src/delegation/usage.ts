// Usage reports from resource servers against a delegation's budget: "this Passport's call cost
// n uses and this amount". 1 parse the report (pure)  2 the Passport verifies  3 the caller may
// introspect its audience  4 it is live as introspection sees it (not revoked, every actor active)
// 5 it carries a did  6 the currency is the budget's  7 consume atomically in the store (never past
// the budget, all or nothing, a usage id counted once)  8 audit record.
// It must not reveal to a caller why a token it may not see is refused: every such case is the
// same `{ active: false }` as an unknown token (RFC 7662 §4 style); the reason goes to the log.
import { allActive } from '../clients/directory.ts';
import type { AuthenticatedClient } from '../clients/authenticate.ts';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { Params } from '../oauth/params.ts';
import type { PassportClaims } from '../passports/mint.ts';
import { verifyPassport } from '../passports/verify.ts';
import { actorsOf, parseAct } from './act.ts';
import { formatAmount, isSpent, parseAmount, remainingBudget } from './budget.ts';

export type UsageReport = { token: string; uses: number; amountMicros?: number | undefined; currency?: string | undefined; usageId?: string | undefined };

export type UsageAnswer = { active: false } | { active: true; budget_remaining?: Record<string, unknown> };

const inactive = { active: false } as const;
const usesShape = /^\d{1,9}$/;
const currencyShape = /^[A-Z]{3}$/;
const usageIdShape = /^[\x21-\x7E]{1,128}$/;

/** 1. The form parameters as a report; anything malformed is invalid_request. */
export function parseUsageReport(params: Params): UsageReport {
  const token = params.get('token');
  if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
  const rawUses = params.get('uses');
  if (rawUses !== undefined && !usesShape.test(rawUses)) throw new OAuthError('invalid_request', 'uses must be a non-negative integer');
  const uses = rawUses === undefined ? 1 : Number(rawUses);
  const rawAmount = params.get('amount');
  const currency = params.get('currency');
  if ((rawAmount === undefined) !== (currency === undefined)) throw new OAuthError('invalid_request', 'amount and currency go together');
  const amountMicros = rawAmount === undefined ? undefined : parseAmount(rawAmount);
  if (rawAmount !== undefined && amountMicros === undefined) throw new OAuthError('invalid_request', 'amount must be a decimal string such as 12.50');
  if (currency !== undefined && !currencyShape.test(currency)) throw new OAuthError('invalid_request', 'currency must be an ISO 4217 code');
  if (uses === 0 && !amountMicros) throw new OAuthError('invalid_request', 'nothing to report: uses and amount are zero');
  const usageId = params.get('usage_id');
  if (usageId !== undefined && !usageIdShape.test(usageId)) throw new OAuthError('invalid_request', 'usage_id must be 1 to 128 visible ASCII characters');
  return { token, uses, amountMicros, currency, usageId };
}

export async function reportUsage(deps: Deps, caller: AuthenticatedClient, report: UsageReport): Promise<UsageAnswer> {
  const now = deps.now();
  const reporter = caller.client.client_id;
  // 2.
  const check = await verifyPassport(report.token, deps.keyring, deps.issuer, now);
  if (!check.ok) {
    deps.log.debug({ reason: check.reason, reporter }, 'usage: token not valid');
    return inactive;
  }
  const { claims } = check;
  const refuse = async (reason: string, answer: UsageAnswer | OAuthError) => {
    await audit(deps, 'budget.refused', claims, report, reporter, { reason, ...(typeof claims.did === 'string' ? { did: claims.did } : {}) });
    if (answer instanceof OAuthError) throw answer;
    return answer;
  };
  // 3. Only a resource server of the audience; not even the agent the Passport was issued to.
  if (!caller.client.introspects.includes(claims.aud)) return refuse('caller_not_allowed', inactive);
  // 4.
  if (await deps.store.revocations.isRevoked(claims.jti)) return refuse('token_revoked', inactive);
  const act = parseAct(claims.act);
  if (act === 'invalid' || !(await allActive(deps, [claims.client_id, ...actorsOf(act)]))) return refuse('actor_inactive', inactive);
  // 5.
  const did = claims.did;
  if (typeof did !== 'string') return refuse('no_delegation', new OAuthError('invalid_request', 'the token carries no delegation'));
  // 6. The Passport's budget claim is the delegation's budget; without an amount budget, no amounts.
  const budgetCurrency = claims.budget?.currency;
  if (report.currency !== undefined && report.currency !== budgetCurrency) {
    return refuse('currency_mismatch', new OAuthError('invalid_request', 'currency does not match the budget'));
  }
  // 7.
  const outcome = await deps.store.delegations.consume(did, { uses: report.uses, amountMicros: report.amountMicros ?? 0, currency: report.currency, usageId: scopedUsageId(reporter, report.usageId) }, now);
  switch (outcome.status) {
    case 'ok':
    case 'duplicate': {
      if (outcome.status === 'ok') await audit(deps, 'budget.consumed', claims, report, reporter, { did, ...(isSpent(outcome.record) ? { spent: true } : {}) });
      else deps.log.info({ did, reporter, usage_id: report.usageId }, 'usage: repeated usage_id, counted once');
      const remaining = remainingBudget(outcome.record);
      return { active: true, ...(remaining ? { budget_remaining: remaining } : {}) };
    }
    case 'exceeded':
      return refuse('budget_exceeded', new OAuthError('budget_exceeded', 'the usage would exceed the delegation\'s budget; nothing was counted'));
    case 'currency_mismatch':
      return refuse('currency_mismatch', new OAuthError('invalid_request', 'currency does not match the budget'));
    case 'revoked':
    case 'unknown':
      return refuse(`delegation_${outcome.status}`, inactive);
  }
}

/** Usage ids are the reporter's own: two resource servers cannot collide. */
const scopedUsageId = (reporter: string, usageId: string | undefined): string | undefined => (usageId === undefined ? undefined : JSON.stringify([reporter, usageId]));

// 8.
async function audit(deps: Deps, event: 'budget.consumed' | 'budget.refused', claims: PassportClaims, report: UsageReport, reporter: string, details: Record<string, unknown>): Promise<void> {
  await deps.receipts.record({ event,
    clientId: claims.client_id,
    subject: claims.sub,
    tokenJti: claims.jti,
    details: {
      ...details,
      reporter,
      aud: claims.aud,
      uses: report.uses,
      ...(report.amountMicros !== undefined ? { amount: formatAmount(report.amountMicros), currency: report.currency } : {}),
      ...(report.usageId !== undefined ? { usage_id: report.usageId } : {}),
    },
  });
}
