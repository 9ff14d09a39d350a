// Upstream tokens as token exchange subject tokens: placeholder until upstream exchange lands.
import type { Deps } from '../deps.ts';
import type { SubjectToken } from './subject-token.ts';

export async function resolveUpstreamToken(_deps: Deps, _token: string, _type: string, _now: number): Promise<SubjectToken | undefined> {
  return undefined;
}
