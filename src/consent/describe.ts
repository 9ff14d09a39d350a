// What a request asks, in plain words (pure), the one wording of the consent page, the device page,
// the approvals inbox, its JSON API and the webhook: who asks (the agent or application), for whom,
// the binding message, identity scopes ("your" to the person, "their" to another approver), the
// resource's scopes with its descriptions, and authorization details read through their type's
// description, a tool call's name and arguments, and the well-known RAR fields (RFC 9396 §2.2:
// actions, locations, datatypes, identifier; an amount with its currency anywhere). Every string
// that came from a request is cleaned (control and bidi characters dropped) and bounded; HTML
// escaping is the renderer's job (JSX does it). Must not do I/O: the caller passes the person's name in.
import type { Config } from '../config/load.ts';
import type { ApprovalKind } from '../store/ports.ts';

export type DescribeConfig = Pick<Config, 'clients' | 'resources'>;

/** Whose request the reader sees: their own ("your e-mail address") or another person's ("their"). */
export type Viewer = 'person' | 'other';

/** A fact about one thing asked, as a person needs it to judge it: a tool's argument, a creditor. */
export type Fact = { label: string; value: string };

/** One thing asked: a scope's description, or an authorization detail with its facts. */
export type AskItem = { text: string; facts: Fact[]; /** Facts left out (too many to show). */ more: number };

/** What is asked, in words, for the consent page, the device page and the inbox alike. */
export type AskWords = {
  /** What it asks of the person's identity (openid, email, …). */
  identity: string[];
  /** The resource's name, when it asks for one. */
  resource?: string | undefined;
  /** What it asks of that resource: scopes, then authorization details. */
  items: AskItem[];
  /** What to say instead when nothing more precise is asked: at the resource, or at all. */
  otherwise?: string | undefined;
};

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
  /** What it asks of that resource, one line each (the JSON API, notifications). */
  asks: string[];
  /** The same with their facts, and what to say when nothing precise is asked (pages). */
  ask: AskWords;
  /** All of the above in one line (notifications). */
  summary: string;
};

export type DescribeInput = { kind: ApprovalKind; clientId: string; request: Record<string, unknown>; person?: string | undefined; viewer?: Viewer | undefined };

/** The parts of a request that say what it asks (an authorization request, a waiting request). */
export type AskInput = { identityScopes: readonly string[]; resource?: string | undefined; resourceScopes: readonly string[]; authorizationDetails?: readonly unknown[] | undefined };

const maxText = 200;
const maxArgument = 300;
const maxFacts = 12;
const maxItems = 20;

const identityScopeTexts: Readonly<Record<string, Readonly<Record<Viewer, string>>>> = {
  openid: { person: 'Know who you are (your account id and the organisation you signed in with)', other: 'Know who they are (their account id and the organisation they signed in with)' },
  profile: { person: 'See your name', other: 'See their name' },
  email: { person: 'See your e-mail address', other: 'See their e-mail address' },
  groups: { person: 'See the groups you belong to', other: 'See the groups they belong to' },
  offline_access: { person: 'Stay connected when you are not using it', other: 'Stay connected when they are not using it' },
  approvals: { person: 'Approve or deny requests waiting for your approval, in your name', other: 'Approve or deny requests waiting for their approval, in their name' },
};

const nothingPrecise: Readonly<Record<Viewer, { atResource: string; atAll: string }>> = {
  person: { atResource: 'Access it on your behalf', atAll: 'Act on your behalf' },
  other: { atResource: 'Access it on their behalf', atAll: 'Act on their behalf' },
};

/** An identity scope (openid, email, …) in words. */
export function identityScopeWords(scope: string, viewer: Viewer): string {
  return Object.hasOwn(identityScopeTexts, scope) ? (identityScopeTexts[scope] as Record<Viewer, string>)[viewer] : clean(scope, 100);
}

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

/** A tool call's argument as a person reads it: the value itself, a structure as compact JSON; bounded. */
const argumentValue = (value: unknown): string => clean(isScalar(value) || value === null ? String(value) : JSON.stringify(value), maxArgument);

/**
 * One authorization detail with its facts: its type's description; a tool call (a `tool` field, as
 * MCP clients and agents send them) by the tool's name, then its `arguments` one by one, since they
 * are what a person judges the call by; an amount with its currency; the well-known RAR fields; the
 * remaining scalar fields as key: value.
 */
export function describeDetailItem(detail: unknown, description?: string | undefined): AskItem {
  if (!isRecord(detail)) return { text: 'an authorization detail it did not describe', facts: [], more: 0 };
  const type = typeof detail.type === 'string' ? detail.type : 'unknown';
  const tool = typeof detail.tool === 'string' && detail.tool.trim() ? clean(detail.tool, 100) : undefined;
  const args = tool !== undefined && isRecord(detail.arguments) ? detail.arguments : undefined;
  // A tool's arguments are shown as they are: an amount among them is no limit of the detail's own.
  const amount = findAmount(args ? { ...detail, arguments: undefined } : detail);
  const text = `${clean(description ?? type)}${tool ? `: ${tool}` : ''}${amount ? ` ${amount.words}` : ''}`;
  const facts: Fact[] = [];
  if (args) for (const [name, value] of Object.entries(args)) facts.push({ label: clean(name, 60), value: argumentValue(value) });
  for (const [key, label] of Object.entries(wellKnown)) {
    const values = strings(detail[key]);
    if (values.length) facts.push({ label, value: values.join(', ') });
  }
  for (const [key, value] of Object.entries(detail)) {
    if (key === 'type' || Object.hasOwn(wellKnown, key) || (tool !== undefined && key === 'tool') || (args && key === 'arguments')) continue;
    if (key === amount?.key || (amount && !amount.key && (key === 'amount' || key === 'currency'))) continue;
    if (isScalar(value)) facts.push({ label: clean(key, 60), value: clean(value) });
    else if (Array.isArray(value) && value.length && value.every(isScalar)) facts.push({ label: clean(key, 60), value: strings(value).join(', ') });
    else if (isRecord(value)) for (const [inner, v] of Object.entries(value)) if (isScalar(v)) facts.push({ label: `${clean(key, 60)} ${clean(inner, 60)}`, value: clean(v) });
  }
  return { text, facts: facts.slice(0, maxFacts), more: Math.max(0, facts.length - maxFacts) };
}

/** An item in one line: "pay up to 100 USD (creditorName: Shop; at: https://…)". */
export function oneLine(item: AskItem): string {
  const facts = [...item.facts.map((f) => `${f.label}: ${f.value}`), ...(item.more ? [`and ${item.more} more`] : [])];
  return facts.length ? `${item.text} (${facts.join('; ')})` : item.text;
}

/** One authorization detail in one line. */
export const describeDetail = (detail: unknown, description?: string | undefined): string => oneLine(describeDetailItem(detail, description));

function typeDescription(config: DescribeConfig, resource: string | undefined, type: unknown): string | undefined {
  const types = resource === undefined ? undefined : config.resources.get(resource)?.authorization_details_types;
  return types && typeof type === 'string' && Object.hasOwn(types, type) ? types[type]?.description : undefined;
}

/** A resource's scope in the words the resource's config gives it. */
export function resourceScopeWords(config: DescribeConfig, resource: string, scope: string): string {
  const described = config.resources.get(resource)?.scopes;
  return described && Object.hasOwn(described, scope) ? clean(described[scope]) : clean(scope, 100);
}

/** A resource by its configured name. */
export const resourceName = (config: DescribeConfig, resource: string): string => clean(config.resources.get(resource)?.name ?? resource, 100);

/** What is asked, in words: identity scopes, then the resource's scopes and authorization details. */
export function describeAsk(config: DescribeConfig, ask: AskInput, viewer: Viewer): AskWords {
  const identity = ask.identityScopes.slice(0, maxItems).map((s) => identityScopeWords(s, viewer));
  const resource = ask.resource;
  if (resource === undefined) return { identity, items: [], otherwise: identity.length ? undefined : nothingPrecise[viewer].atAll };
  const items: AskItem[] = [
    ...ask.resourceScopes.slice(0, maxItems).map((s) => ({ text: resourceScopeWords(config, resource, s), facts: [], more: 0 })),
    ...(ask.authorizationDetails ?? []).slice(0, maxItems).map((d) => describeDetailItem(d, typeDescription(config, resource, isRecord(d) ? d.type : undefined))),
  ];
  return { identity, resource: resourceName(config, resource), items, otherwise: items.length ? undefined : nothingPrecise[viewer].atResource };
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
  // 2. What it asks: identity scopes (person requests only), the resource, its scopes and details.
  const rawDetails = r.authorizationDetails ?? r.details;
  const words = describeAsk(
    config,
    {
      identityScopes: [r.identityScopes ?? []].flat().filter((s): s is string => typeof s === 'string'),
      resource: typeof r.resource === 'string' ? r.resource : undefined,
      resourceScopes: [r.resourceScopes ?? r.scopes].flat().filter((s): s is string => typeof s === 'string'),
      authorizationDetails: Array.isArray(rawDetails) ? rawDetails : [],
    },
    input.viewer ?? 'other',
  );
  const bindingMessage = typeof r.bindingMessage === 'string' && r.bindingMessage ? clean(r.bindingMessage) : undefined;
  const described = {
    client: nameOf(config, agent),
    person: input.person === undefined ? undefined : clean(input.person, 100),
    bindingMessage,
    through,
    identity: words.identity,
    resource: words.resource,
    asks: words.items.map(oneLine),
    ask: words,
  };
  return { ...described, summary: summarize(described) };
}

/** "Read your data" → "read your data" inside a sentence (an acronym such as "API" stays). */
const inSentence = (text: string): string => text.replace(/^\p{Lu}(?=\p{Ll})/u, (first) => first.toLowerCase());

function summarize(w: Omit<RequestWords, 'summary'>): string {
  const parts = [`${w.client}${w.through.length ? ` (through ${w.through.join(', ')})` : ''}${w.person ? ` for ${w.person}` : ''} asks to`];
  const atResource = !w.resource ? [] : w.asks.length ? w.asks.map((a) => `${a} on ${w.resource}`) : [(w.ask.otherwise ?? '').replace(/\bit\b/, w.resource)];
  const wants = [...w.identity, ...atResource];
  parts.push((wants.length ? wants : [w.ask.otherwise ?? '']).map(inSentence).join('; '));
  return `${parts.join(' ')}${w.bindingMessage ? `. Message: “${w.bindingMessage}”` : ''}`;
}
