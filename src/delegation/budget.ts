// Budget amounts as exact integers (millionths of the currency unit, at most 9 digits before the
// point so that sums stay exact doubles): decimal strings in config,
// requests and answers; never floats. Pure.
import type { Budget } from '../config/schema.ts';
import type { DelegationBudget, DelegationRecord } from '../store/ports.ts';

const decimal = /^(\d{1,9})(?:\.(\d{1,6}))?$/;

/** "12.5" → 12_500_000; undefined when not a decimal amount this store can hold. */
export function parseAmount(value: string): number | undefined {
  const match = decimal.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * 1_000_000 + Number((match[2] ?? '').padEnd(6, '0'));
}

export function formatAmount(micros: number): string {
  const units = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000).padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${units}.${fraction}` : String(units);
}

export function toDelegationBudget(budget: Budget | undefined): DelegationBudget | undefined {
  if (!budget) return undefined;
  return { uses: budget.uses, amountMicros: budget.amount === undefined ? undefined : parseAmount(budget.amount), currency: budget.currency };
}

/** The `budget` claim of a Passport: what the delegation may spend in all. */
export function budgetClaim(budget: DelegationBudget | undefined): Record<string, unknown> | undefined {
  if (!budget) return undefined;
  return {
    ...(budget.uses !== undefined ? { uses: budget.uses } : {}),
    ...(budget.amountMicros !== undefined ? { amount: formatAmount(budget.amountMicros), currency: budget.currency } : {}),
  };
}

/** What is left, as introspection shows it. */
export function remainingBudget(record: DelegationRecord): Record<string, unknown> | undefined {
  const budget = record.budget;
  if (!budget) return undefined;
  return {
    ...(budget.uses !== undefined ? { uses: budget.uses, uses_remaining: Math.max(0, budget.uses - record.used.uses) } : {}),
    ...(budget.amountMicros !== undefined
      ? { amount: formatAmount(budget.amountMicros), amount_remaining: formatAmount(Math.max(0, budget.amountMicros - record.used.amountMicros)), currency: budget.currency }
      : {}),
  };
}

/** Spent: no use or no amount left. */
export function isSpent(record: DelegationRecord): boolean {
  const budget = record.budget;
  if (!budget) return false;
  return (budget.uses !== undefined && record.used.uses >= budget.uses) || (budget.amountMicros !== undefined && record.used.amountMicros >= budget.amountMicros);
}
