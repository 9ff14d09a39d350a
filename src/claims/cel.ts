// CEL for mapping rules (@marcbachmann/cel-js): one environment per role of an expression, each
// expression parsed, checked against the bounds in limits.ts and type-checked once, then run many
// times. Nothing here evaluates JavaScript; the only functions beyond standard CEL are ours
// (`list.flatten()`, as in cel-go's lists extension).
import { Environment, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { expressionLimits } from './limits.ts';

export type ExprRole =
  /** `subject`: string. */
  | 'subject'
  /** A claim's `expr`: any type, or the one a well-known claim needs. */
  | 'value'
  /** A claim's `when`: bool. */
  | 'condition'
  /** A `deny` rule's `when`: bool, and `canonical` is in scope. */
  | 'deny'
  /** A policy rule's `when` (config/policies/): bool, over the request, not over upstream claims. */
  | 'policy';

/** What a value must be, for claims whose type the rest of Consulate relies on. */
export type ValueType = 'string' | 'bool' | 'list<string>';

export type CompiledExpr = {
  readonly source: string;
  /** The checked type: 'string', 'bool', 'dyn', 'list<string>'… */
  readonly type: string;
  readonly run: ParseResult;
  /** Set when the expression is just `claims.<name>` (or `claims["<name>"]`): read directly. */
  readonly claim?: string;
};

export type ExprProblem = { message: string; offset?: number };

/** What the cost estimate knows about a table: its number of entries and longest list value. */
export type TableShape = { entries: number; longestList: number };
export type TableShapes = ReadonlyMap<string, TableShape>;

/** Comprehension macros: their bodies run once per item of the receiver. */
const comprehensions = new Set(['map', 'filter', 'all', 'exists', 'exists_one']);

function baseEnvironment(): Environment {
  return new Environment({ limits: expressionLimits.parser })
    .registerVariable('claims', 'map<string, dyn>', { description: 'The upstream ID token / userinfo claims, sanitized.' })
    .registerVariable('tables', 'map<string, map<string, dyn>>', { description: "The rule set's lookup tables." })
    .registerVariable('upstream', 'map<string, string>', { description: 'The upstream: id, kind, issuer.' })
    .registerFunction('list.flatten(): list', (list: unknown[]) => list.flatMap((item) => (Array.isArray(item) ? item : [item])), {
      description: 'One level of nested lists flattened; other items kept (cel-go lists extension).',
    });
}

/** Policy conditions see the request (see src/obligations/), never upstream claims or tables. */
function policyEnvironment(): Environment {
  return new Environment({ limits: expressionLimits.parser })
    .registerVariable('client', 'map<string, string>', { description: 'The client or agent: client_id, kind, owner, name.' })
    .registerVariable('person', 'map<string, dyn>', { description: 'The canonical claims of the person represented (empty for a client).' })
    .registerVariable('scopes', 'list<string>', { description: 'The scopes asked for.' })
    .registerVariable('resource', 'string', { description: 'The resource (audience) asked for, or "".' })
    .registerVariable('details', 'list<dyn>', { description: 'The authorization details (RFC 9396) asked for.' })
    .registerVariable('grant', 'string', { description: 'token_exchange, jwt_bearer, ciba, device_code, client_credentials or authorization_code.' })
    .registerVariable('risk', 'map<string, dyn>', { description: 'Risk signals (src/obligations/signals.ts).' });
}

let environments: { value: Environment; deny: Environment; policy: Environment } | undefined;
function environmentFor(role: ExprRole): Environment {
  if (!environments) {
    const value = baseEnvironment();
    // clone() freezes `value`'s registrations; the deny environment adds `canonical`.
    const deny = value.clone().registerVariable('canonical', 'map<string, dyn>', { description: 'The canonical claims mapped so far.' });
    environments = { value, deny, policy: policyEnvironment() };
  }
  return role === 'deny' ? environments.deny : role === 'policy' ? environments.policy : environments.value;
}

type CelError = Error & { code?: string; summary?: string; range?: { start: number; end: number } };

const describe = (error: unknown) => {
  const e = error as CelError;
  return { summary: e.summary ?? e.message ?? String(error), code: e.code, offset: e.range && e.range.end > 0 ? e.range.start : undefined };
};

const expectedType: Record<ExprRole, readonly string[] | undefined> = { subject: ['string', 'dyn'], value: undefined, condition: ['bool', 'dyn'], deny: ['bool', 'dyn'], policy: ['bool', 'dyn'] };
const valueTypes: Record<ValueType, readonly string[]> = { string: ['string', 'dyn'], bool: ['bool', 'dyn'], 'list<string>': ['list<string>', 'list', 'list<dyn>', 'dyn'] };

/**
 * Parses, bounds and type-checks one expression. `tables` are the rule set's table names, so that
 * `tables.nope` is caught here. `valueType`: what a well-known claim's value must be.
 */
export function compileExpression(source: string, role: ExprRole, tables: TableShapes, valueType?: ValueType): { ok: true; expr: CompiledExpr } | { ok: false; problem: ExprProblem } {
  if (source.length > expressionLimits.maxLength) return { ok: false, problem: { message: `expression longer than ${expressionLimits.maxLength} characters` } };
  const env = environmentFor(role);
  let parsed: ParseResult;
  try {
    parsed = env.parse(source);
  } catch (error) {
    const { summary, code, offset } = describe(error);
    if (code === 'limit_exceeded') return { ok: false, problem: { message: `expression too large or too deeply nested: ${summary}`, offset } };
    return { ok: false, problem: { message: `CEL syntax error: ${summary}`, offset } };
  }
  const bound = checkBounds(parsed.ast, tables);
  if (bound) return { ok: false, problem: bound };
  const checked = parsed.check();
  if (!checked.valid) {
    const { summary, offset } = describe(checked.error);
    return { ok: false, problem: { message: `CEL type error: ${summary}`, offset } };
  }
  const type = checked.type ?? 'dyn';
  const allowed = valueType ? valueTypes[valueType] : expectedType[role];
  if (allowed && !allowed.includes(type)) {
    const want = valueType ?? (role === 'subject' ? 'string' : 'bool');
    return { ok: false, problem: { message: `must be of type ${want}, but this expression is of type ${type}` } };
  }
  const claim = role === 'policy' ? undefined : plainClaimAccess(parsed.ast);
  return { ok: true, expr: { source, type, run: parsed, ...(claim !== undefined ? { claim } : {}) } };
}

/** `claims.x` / `claims["x"]` → "x": the commonest rule, evaluated without the CEL machinery. */
function plainClaimAccess(node: ASTNode): string | undefined {
  if (node.op !== '.' && node.op !== '[]') return undefined;
  const [target, key] = node.args as [ASTNode, ASTNode | string];
  if (target.op !== 'id' || target.args !== 'claims') return undefined;
  if (typeof key === 'string') return key;
  return key.op === 'value' && typeof key.args === 'string' ? key.args : undefined;
}

// ---- bounds on the AST -------------------------------------------------------------------------

type Node = ASTNode;
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && 'op' in value && 'args' in value;

/** The AST nodes directly below `node` (args are a node, a list of nodes, or map entries). */
function children(node: Node): Node[] {
  const out: Node[] = [];
  const visit = (value: unknown) => {
    if (isNode(value)) out.push(value);
    else if (Array.isArray(value)) for (const item of value) visit(item);
  };
  if (node.op === 'value' || node.op === 'id') return out;
  visit(node.args);
  return out;
}

const callName = (node: Node): string | undefined => (node.op === 'call' || node.op === 'rcall' ? node.args[0] : undefined);

function checkBounds(root: Node, tables: TableShapes): ExprProblem | undefined {
  let problem: ExprProblem | undefined;
  const fail = (message: string, node: Node) => {
    problem ??= { message, offset: node.start };
  };

  /** `enclosing`: how many comprehension bodies `node` is in. */
  const walk = (node: Node, enclosing: number): void => {
    if (problem) return;
    const name = callName(node);
    if (name === 'matches') {
      const pattern = node.op === 'rcall' ? (node.args as [string, Node, Node[]])[2][0] : (node.args as [string, Node[]])[1][1];
      if (!pattern || pattern.op !== 'value' || typeof pattern.args !== 'string') return fail('matches() needs a literal pattern (a string in the expression), not a value computed from claims', node);
      const bad = regexProblem(pattern.args);
      if (bad) return fail(`matches() pattern ${JSON.stringify(pattern.args)}: ${bad}`, pattern);
    }
    const key = tableRef(node);
    if (key && !tables.has(key)) return fail(`no table named ${JSON.stringify(key)} in this rule set${tables.size ? ` (tables: ${[...tables.keys()].join(', ')})` : ''}`, node);
    if (node.op === 'rcall' && name && comprehensions.has(name)) {
      if (enclosing >= expressionLimits.maxComprehensionNesting) {
        return fail(`${name}() inside ${enclosing} other comprehensions: at most ${expressionLimits.maxComprehensionNesting} levels of map/filter/all/exists/exists_one may be nested (each level multiplies the work by the list size)`, node);
      }
      const [, receiver, args] = node.args as [string, Node, Node[]];
      walk(receiver, enclosing);
      for (const arg of args) walk(arg, enclosing + 1);
      return;
    }
    for (const child of children(node)) walk(child, enclosing);
  };
  walk(root, 0);
  if (problem) return problem;
  const cost = estimateCost(root, 1, tables);
  if (cost > expressionLimits.maxEstimatedCost) {
    return {
      message: `estimated worst-case cost ${cost.toLocaleString('en')} is over the limit of ${expressionLimits.maxEstimatedCost.toLocaleString('en')}: a comprehension body runs once per item (up to ${expressionLimits.maxRangeItems} for a claim list), and join/split/matches/contains/flatten/in… count ${expressionLimits.linearCallCost} each; move such calls out of nested comprehensions`,
    };
  }
  return undefined;
}

/** Calls whose work grows with the size of a string or list. */
const linearCalls = new Set(['join', 'split', 'flatten', 'matches', 'contains', 'startsWith', 'endsWith', 'indexOf', 'lastIndexOf', 'lowerAscii', 'upperAscii', 'trim', 'substring', 'json', 'base64', 'hex', 'string', 'bytes']);

/** `tables.x` or `tables["x"]` → "x"; `tables[expr]` → '' (some table); anything else → undefined. */
function tableRef(node: Node | undefined): string | undefined {
  if (!node || (node.op !== '.' && node.op !== '[]')) return undefined;
  const [target, key] = node.args as [Node, Node | string];
  if (!isNode(target) || target.op !== 'id' || target.args !== 'tables') return undefined;
  if (typeof key === 'string') return key;
  return key.op === 'value' && typeof key.args === 'string' ? key.args : '';
}
const isTablesRef = (node: Node | undefined): boolean => tableRef(node) !== undefined;

/** Upper bound on the items a comprehension's receiver can have. */
function rangeBound(receiver: Node, tables: TableShapes): number {
  if (receiver.op === 'list') return (receiver.args as Node[]).length;
  const table = tables.get(tableRef(receiver) ?? '');
  if (table) return table.entries;
  // tables.t[key]: one of the table's list values.
  if (receiver.op === '[]') {
    const inner = tables.get(tableRef((receiver.args as [Node, Node])[0]) ?? '');
    if (inner) return inner.longestList;
  }
  return expressionLimits.maxRangeItems;
}

/**
 * Worst-case work, in steps: every node costs 1 per time it runs, a call that walks a string or
 * list costs `linearCallCost`, and a comprehension runs its body once per item of its receiver.
 * `in` against a table (a map) is a lookup; against anything else a scan.
 */
function estimateCost(node: Node, times: number, tables: TableShapes): number {
  const name = callName(node);
  if (node.op === 'rcall' && name && comprehensions.has(name)) {
    const [, receiver, args] = node.args as [string, Node, Node[]];
    const items = rangeBound(receiver, tables);
    const inner = times * Math.max(items, 1);
    let cost = estimateCost(receiver, times, tables) + inner;
    for (const arg of args.slice(1)) cost += estimateCost(arg, inner, tables);
    return cost;
  }
  let own = 1;
  if (name && linearCalls.has(name)) own = expressionLimits.linearCallCost;
  if (node.op === 'in' && !isTablesRef((node.args as Node[])[1])) own = expressionLimits.linearCallCost;
  let cost = times * own;
  for (const child of children(node)) cost += estimateCost(child, times, tables);
  return cost;
}

/**
 * `matches()` runs JavaScript regular expressions, which backtrack: `a*a*b` on 8 KiB of `a` takes
 * minutes. A pattern is accepted when its backtracking is bounded: it starts with `^` (one start
 * position), alternation only inside groups, no backreferences or lookaround, no quantified group
 * (except `?` on a group without quantifiers), at most one unbounded quantifier (`*`, `+`, `{n,}`),
 * and the product of the other quantifiers' ranges and the alternatives at most 64.
 */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > expressionLimits.maxRegexLength) return `longer than ${expressionLimits.maxRegexLength} characters`;
  try {
    new RegExp(pattern);
  } catch {
    return 'not a valid regular expression';
  }
  if (!pattern.startsWith('^')) return 'must start with ^ (anchored patterns only)';
  let unbounded = 0;
  let factor = 1;
  const groups: { quantified: boolean; alternatives: number }[] = [];
  let lastAtom: 'atom' | 'group' | 'none' = 'none';
  let lastGroupQuantified = false;
  let i = 1;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'backreferences are not allowed';
      i += 2;
      lastAtom = 'atom';
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j + 1;
      lastAtom = 'atom';
      continue;
    }
    if (c === '(') {
      if (pattern.startsWith('(?=', i) || pattern.startsWith('(?!', i) || pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) return 'lookahead and lookbehind are not allowed';
      groups.push({ quantified: false, alternatives: 1 });
      i += pattern.startsWith('(?:', i) ? 3 : 1;
      lastAtom = 'none';
      continue;
    }
    if (c === ')') {
      const group = groups.pop();
      if (!group) return 'unbalanced parenthesis';
      factor *= group.alternatives;
      lastGroupQuantified = group.quantified || group.alternatives > 1;
      if (group.quantified && groups.length) (groups[groups.length - 1] as { quantified: boolean }).quantified = true;
      i++;
      lastAtom = 'group';
      continue;
    }
    if (c === '|') {
      const group = groups[groups.length - 1];
      if (!group) return 'alternation (|) only inside a group, e.g. ^(a|b)$, so that ^ anchors every branch';
      group.alternatives++;
      i++;
      lastAtom = 'none';
      continue;
    }
    const quantifier = /^(?:[*+?]|\{(\d+)(,(\d*))?\})/.exec(pattern.slice(i));
    if (quantifier && lastAtom !== 'none') {
      const [text, min, comma, max] = quantifier;
      const isUnbounded = text === '*' || text === '+' || (comma !== undefined && max === '');
      if (lastAtom === 'group' && (text !== '?' || lastGroupQuantified)) return 'a group may only be made optional with ?, and only when it contains no quantifier or alternation';
      if (isUnbounded) unbounded++;
      else if (text === '?') factor *= 2;
      else factor *= comma === undefined ? 1 : Number(max) - Number(min) + 1;
      for (const group of groups) group.quantified = true;
      i += text.length;
      if (pattern[i] === '?') i++; // lazy
      lastAtom = 'none';
      continue;
    }
    i++;
    lastAtom = c === '^' || c === '$' ? 'none' : 'atom';
  }
  if (unbounded > 1) return 'at most one unbounded quantifier (*, + or {n,}); bound the others, e.g. {1,64}';
  if (factor > expressionLimits.maxRegexBacktrackFactor) return `its bounded quantifiers and alternatives allow too much backtracking (${factor} > ${expressionLimits.maxRegexBacktrackFactor})`;
  return undefined;
}

// ---- evaluation ------------------------------------------------------------------------------

/** Error codes that mean "the claim (or list item) is not there". */
const missingCodes = new Set(['no_such_key', 'index_out_of_bounds']);

export type RunResult = { ok: true; value: unknown } | { ok: false; missing: boolean; message: string };

/**
 * Runs a compiled expression. `context.claims` (mapping roles) must be what toCelInput made (plain
 * objects, own keys only), which is what makes the direct read of `claims.<name>` the same as CEL's.
 */
export function runExpression(expr: CompiledExpr, context: Record<string, unknown>): RunResult {
  if (expr.claim !== undefined) {
    const claims = context.claims as Record<string, unknown>;
    return Object.hasOwn(claims, expr.claim) ? { ok: true, value: claims[expr.claim] } : { ok: false, missing: true, message: `No such key: ${expr.claim}` };
  }
  // A missing claim is an exception in the library, and a stack trace costs ~10 µs: none is kept.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const value: unknown = expr.run(context);
    if (value instanceof Promise) return { ok: false, missing: false, message: 'asynchronous result' };
    return { ok: true, value };
  } catch (error) {
    const { summary, code } = describe(error);
    return { ok: false, missing: code !== undefined && missingCodes.has(code), message: summary };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
