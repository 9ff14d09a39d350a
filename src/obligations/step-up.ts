// Whether an authentication already satisfies a step-up obligation (pure): the acr asked for, and
// an auth_time no older than max_age (OIDC Core §3.1.2.1 max_age; RFC 9470 §3 acr_values/max_age).
// And the step-up a waiting request keeps for its approvers (the approval's request `stepUp`):
// written, read back defensively, and put in words.
import type { StepUp } from './types.ts';

export type Authentication = { authTime: number; acr?: string | undefined } | undefined;

export function stepUpSatisfied(stepUp: StepUp, authentication: Authentication, now: number): boolean {
  if (!authentication) return false;
  if (stepUp.acr !== undefined && authentication.acr !== stepUp.acr) return false;
  if (stepUp.maxAge !== undefined && now - authentication.authTime > stepUp.maxAge) return false;
  return true;
}

/** A step-up as stored in JSON (no undefined members). */
export type StepUpRecord = { acr?: string; maxAge?: number };

export const stepUpRecord = (stepUp: StepUp): StepUpRecord => ({ ...(stepUp.acr !== undefined ? { acr: stepUp.acr } : {}), ...(stepUp.maxAge !== undefined ? { maxAge: stepUp.maxAge } : {}) });

/** An acr no upstream returns: what a malformed stored step-up becomes, so that it fails closed. */
export const unreadableAcr = 'urn:consulate:acr:unreadable-requirement';

/** The step-up a waiting request's approvers must meet; undefined when none. A malformed one cannot be met. */
export function stepUpOf(request: Readonly<Record<string, unknown>>): StepUp | undefined {
  const value = request.stepUp;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) return { acr: unreadableAcr };
  const { acr, maxAge } = value as { acr?: unknown; maxAge?: unknown };
  const stepUp: StepUp = {
    ...(typeof acr === 'string' && acr ? { acr } : {}),
    ...(typeof maxAge === 'number' && Number.isInteger(maxAge) && maxAge >= 0 ? { maxAge } : {}),
  };
  return stepUp.acr === undefined && stepUp.maxAge === undefined ? { acr: unreadableAcr } : stepUp;
}

/** "acr urn:…:mfa, at most 5 minutes ago": what a fresh sign-in must have. */
export function stepUpWords(stepUp: StepUp): string {
  const age = (seconds: number) => (seconds < 120 ? `${seconds} seconds` : `${Math.floor(seconds / 60)} minutes`);
  return [stepUp.acr !== undefined ? `authentication level ${stepUp.acr}` : '', stepUp.maxAge !== undefined ? `at most ${age(stepUp.maxAge)} ago` : ''].filter(Boolean).join(', ');
}
