// A waiting request in plain words (pure): who asks (the agent or application), for whom, the
// binding message, the scopes with the resource's descriptions, and authorization details read
// through their type's description and the well-known RAR fields (RFC 9396 §2.2: actions,
// locations, datatypes, identifier; an amount with its currency anywhere). Every string that came
// from a request is cleaned (control and bidi characters dropped) and bounded; HTML escaping is
// the renderer's job (JSX does it). Must not do I/O: the caller passes the person's name in.
import type { Config } from '../config/load.ts';
import type { ApprovalKind } from '../store/ports.ts';

export type DescribeConfig = Pick<Config, 'clients' | 'resources'>;

export type RequestWords = {
  /** The agent or application asking. */
  client: string;
  /** The person it would act for, when there is one. */
  person?: string | undefined;
  bindingMessage?: string | undefined;
  /** Token exchange: the agents the request passed through, outermost first. */
  through: string[];
  /** What it asks of the person's identity (openid, email, …). */
  identity: string[];
  /** The resource's name, when it asks for one. */
  resource?: string | undefined;
  /** What it asks of that resource: scopes and authorization details, in words. */
  asks: string[];
  /** All of the above in one line (notifications). */
  summary: string;
};

export type DescribeInput = { kind: ApprovalKind; clientId: string; request: Record<string, unknown>; person?: string | undefined };

const maxText = 200;
const maxFacts = 12;
const maxItems = 20;

const identityScopeWords: Readonly<Record<string, string>> = {
  openid: 'know who the person is',
  profile: 'see their name',
  email: 'see their e-mail address',
  groups: 'see the groups they belong to',
  offline_access: 'stay connected while they are away',
};

/** A string from a request, safe to show: no control or bidi-override characters, bounded length. */
export function clean(value: unknown, max = maxText): string {
  const text = String(value)
    .replace(/[\p{Cc}\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown): value is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof value);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter(isScalar).slice(0, maxItems).map((v) => clean(v)) : isScalar(value) ? [clean(value)] : []);

/** "up to 100 USD": the first object (itself or nested, two levels deep) with an amount and a currency. */
function findAmount(value: Record<string, unknown>, depth = 0): { words: string; key?: string } | undefined {
  const amount = value.amount;
  const currency = value.currency;
  if ((typeof amount === 'string' || typeof amount === 'number') && typeof currency === 'string') return { words: `up to ${clean(amount, 40)} ${clean(currency, 12)}` };
  if (depth >= 2) return undefined;
  for (const [key, nested] of Object.entries(value)) {
    if (!isRecord(nested)) continue;
    const found = findAmount(nested, depth + 1);
    if (found) return { words: found.words, key };
  }
  return undefined;
}

const wellKnown: Readonly<Record<string, string>> = { actions: 'actions', locations: 'at', datatypes: 'data', identifier: 'identifier', privileges: 'privileges' };

/** One authorization detail in words: "pay up to 100 USD (creditorName: Shop; at: https://…)". */
export function describeDetail(detail: unknown, description?: string | undefined): string {
  if (!isRecord(detail)) return 'an authorization detail it did not describe';
  const type = typeof detail.type === 'string' ? detail.type : 'unknown';
  const amount = findAmount(detail);
  const head = `${clean(description ?? type)}${amount ? ` ${amount.words}` : ''}`;
  const facts: string[] = [];
  for (const [key, label] of Object.entries(wellKnown)) {
    const values = strings(detail[key]);
    if (values.length) facts.push(`${label}: ${values.join(', ')}`);
  }
  for (const [key, value] of Object.entries(detail)) {
    if (key === 'type' || Object.hasOwn(wellKnown, key) || key === amount?.key || (amount && !amount.key && (key === 'amount' || key === 'currency'))) continue;
    if (isScalar(value)) facts.push(`${clean(key, 60)}: ${clean(value)}`);
    else if (Array.isArray(value) && value.length && value.every(isScalar)) facts.push(`${clean(key, 60)}: ${strings(value).join(', ')}`);
    else if (isRecord(value)) for (const [inner, v] of Object.entries(value)) if (isScalar(v)) facts.push(`${clean(key, 60)} ${clean(inner, 60)}: ${clean(v)}`);
  }
  const shown = facts.slice(0, maxFacts);
  if (facts.length > maxFacts) shown.push(`and ${facts.length - maxFacts} more`);
  return shown.length ? `${head} (${shown.join('; ')})` : head;
}

function typeDescription(config: DescribeConfig, resource: string | undefined, type: unknown): string | undefined {
  const types = resource === undefined ? undefined : config.resources.get(resource)?.authorization_details_types;
  return types && typeof type === 'string' && Object.hasOwn(types, type) ? types[type]?.description : undefined;
}

function scopeWords(config: DescribeConfig, resource: string, scope: string): string {
  const described = config.resources.get(resource)?.scopes;
  return described && Object.hasOwn(described, scope) ? clean(described[scope]) : clean(scope, 100);
}

/** A person as an approver should recognise them: "Name (e-mail)", or whichever of the two there is. */
export function personLabel(claims: Readonly<Record<string, unknown>>): string | undefined {
  const name = typeof claims.name === 'string' && claims.name ? clean(claims.name, 100) : undefined;
  const email = typeof claims.email === 'string' && claims.email ? clean(claims.email, 100) : undefined;
  return name && email ? `${name} (${email})` : (name ?? email);
}

const nameOf = (config: DescribeConfig, clientId: string): string => clean(config.clients.get(clientId)?.name ?? clientId, 100);

/** The request of a CIBA or device approval (PersonRequest) or of a paused exchange, read defensively. */
export function describeRequest(config: DescribeConfig, input: DescribeInput): RequestWords {
  const r = input.request;
  // 1. Who asks, and through whom (exchange: the agent and its act chain).
  const agent = typeof r.agent === 'string' ? r.agent : input.clientId;
  const through = (Array.isArray(r.actChain) ? r.actChain : [])
    .slice(0, maxItems)
    .map((a) => (typeof a === 'string' ? a : isRecord(a) ? (a.client_id ?? a.sub) : undefined))
    .filter((a): a is string => typeof a === 'string')
    .map((a) => nameOf(config, a));
  // 2. Identity scopes (person requests only).
  const identity = strings(r.identityScopes).map((s) => (Object.hasOwn(identityScopeWords, s) ? (identityScopeWords[s] as string) : s));
  // 3. The resource, its scopes and authorization details.
  const resourceId = typeof r.resource === 'string' ? r.resource : undefined;
  const scopes = strings(r.resourceScopes ?? r.scopes);
  const details = Array.isArray(r.authorizationDetails ?? r.details) ? ((r.authorizationDetails ?? r.details) as unknown[]).slice(0, maxItems) : [];
  const asks = resourceId === undefined ? [] : [...scopes.map((s) => scopeWords(config, resourceId, s)), ...details.map((d) => describeDetail(d, typeDescription(config, resourceId, isRecord(d) ? d.type : undefined)))];
  const resource = resourceId === undefined ? undefined : clean(config.resources.get(resourceId)?.name ?? resourceId, 100);
  const bindingMessage = typeof r.bindingMessage === 'string' && r.bindingMessage ? clean(r.bindingMessage) : undefined;
  const words = { client: nameOf(config, agent), person: input.person === undefined ? undefined : clean(input.person, 100), bindingMessage, through, identity, resource, asks };
  return { ...words, summary: summarize(words) };
}

function summarize(w: Omit<RequestWords, 'summary'>): string {
  const parts = [`${w.client}${w.through.length ? ` (through ${w.through.join(', ')})` : ''}${w.person ? ` for ${w.person}` : ''} asks to`];
  const wants = [...w.identity, ...(w.resource ? (w.asks.length ? w.asks : ['access it']).map((a) => `${a} on ${w.resource}`) : [])];
  parts.push(wants.length ? wants.join('; ') : 'act for the person');
  return `${parts.join(' ')}${w.bindingMessage ? `. Message: “${w.bindingMessage}”` : ''}`;
}
