// Tool orchestration for agents: a declarative map from tool name to the authorization it needs,
// and a runner that gets the right Passport before a tool runs, so the agent's own logic never
// handles OAuth. `null`: a public tool, no Passport. `client_credentials`: the agent's own Passport
// (cached by the SDK). `on_behalf`: a Passport for a person — by token exchange of a token they
// gave the agent, or, with `approval`, by CIBA, so the person approves this very call (the binding
// message is built from its arguments). It fails closed: a tool missing from the map never runs,
// a malformed entry is refused at creation, and a missing person is an error before any request.
import type { AgentClient, AgentTokens, Pending } from './agent-client.ts';

export type ToolArgs = Readonly<Record<string, unknown>>;

type Needs = {
  scope: string;
  resource?: string | string[];
  authorizationDetails?: readonly Record<string, unknown>[];
};

/** What one tool needs: nothing (public), the agent's own Passport, or one for a person. */
export type ToolAuth =
  | null
  | ({ type: 'client_credentials' } & Needs)
  | ({
      type: 'on_behalf';
      /** true: the person approves each call (CIBA); false: exchange the person's subjectToken. */
      approval: boolean;
      /** What the person sees when asked to approve (≤ 128 characters), made from the call's arguments. */
      bindingMessage?: (args: ToolArgs) => string;
    } & Needs);

export type ToolAuthConfig = Readonly<Record<string, ToolAuth>>;

/** Who a call is for: `loginHint` for approvals (CIBA), `subjectToken` for token exchange. */
export type ToolPerson = { loginHint?: string; subjectToken?: string };

/** Told when a call waits for the person: what to show them meanwhile. */
export type ToolPending = Pending & { tool: string; loginHint: string; bindingMessage: string };

export type ToolAuthorizerOptions = {
  onPending?: (pending: ToolPending) => void;
  /** Stops a wait for approval (the call then rejects with the signal's reason). */
  signal?: AbortSignal;
};

export type ToolAuthorizer = {
  /** The Passport `tool` needs for this call; undefined for a public tool. */
  passportFor(tool: string, args: ToolArgs, person?: ToolPerson): Promise<AgentTokens | undefined>;
  /** Gets the Passport, then runs `fn` with it. `fn` never runs when authorization fails. */
  run<T>(tool: string, args: ToolArgs, person: ToolPerson | undefined, fn: (passport: AgentTokens | undefined) => Promise<T>): Promise<T>;
};

/** A call that cannot be authorized as configured (unknown tool, no person): never sent anywhere. */
export class ToolAuthorizationError extends Error {
  override readonly name = 'ToolAuthorizationError';
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(`${tool}: ${message}`);
  }
}

const maxBindingMessage = 128;

/** Checked once, at creation: a typo such as `type: 'ciba'` must not make a tool public. */
function checkConfig(tools: ToolAuthConfig): void {
  for (const [tool, auth] of Object.entries(tools)) {
    if (auth === null) continue;
    if (typeof auth !== 'object' || (auth.type !== 'client_credentials' && auth.type !== 'on_behalf')) {
      throw new ToolAuthorizationError(tool, `unknown authorization type ${JSON.stringify((auth as { type?: unknown } | undefined)?.type)}`);
    }
    if (typeof auth.scope !== 'string' || auth.scope.trim() === '') throw new ToolAuthorizationError(tool, 'a scope is required');
    if (auth.type === 'on_behalf' && typeof auth.approval !== 'boolean') throw new ToolAuthorizationError(tool, 'on_behalf needs approval: true or false');
  }
}

const target = (auth: Needs) => ({
  scope: auth.scope,
  ...(auth.resource !== undefined ? { resource: auth.resource } : {}),
  ...(auth.authorizationDetails !== undefined ? { authorizationDetails: auth.authorizationDetails } : {}),
});

export function createToolAuthorizer(agent: AgentClient, tools: ToolAuthConfig, options: ToolAuthorizerOptions = {}): ToolAuthorizer {
  checkConfig(tools);

  async function passportFor(tool: string, args: ToolArgs, person: ToolPerson = {}): Promise<AgentTokens | undefined> {
    // Own keys only: 'toString' or '__proto__' is not a tool.
    if (!Object.hasOwn(tools, tool)) throw new ToolAuthorizationError(tool, 'not a configured tool (refused: unknown tools never run)');
    const auth = tools[tool] as ToolAuth;
    if (auth === null) return undefined;
    if (auth.type === 'client_credentials') return agent.clientCredentials(target(auth));

    if (!auth.approval) {
      if (!person.subjectToken) throw new ToolAuthorizationError(tool, "acting for a person needs the person's subjectToken (token exchange)");
      return agent.exchange(person.subjectToken, target(auth));
    }

    // Approval per call: CIBA is never cached by the SDK, so each call asks the person again.
    const loginHint = person.loginHint;
    if (!loginHint) throw new ToolAuthorizationError(tool, "approval by the person needs their loginHint (e-mail or subject)");
    const bindingMessage = auth.bindingMessage ? auth.bindingMessage(args) : `Allow ${tool}`;
    if (!bindingMessage || [...bindingMessage].length > maxBindingMessage) throw new ToolAuthorizationError(tool, `the binding message must be 1-${maxBindingMessage} characters`);
    return agent.ciba({
      ...target(auth), // the SDK adds openid to the scope (CIBA is an OpenID request)
      loginHint,
      bindingMessage,
      ...(options.signal ? { signal: options.signal } : {}),
      onPending: (pending) => options.onPending?.({ ...pending, tool, loginHint, bindingMessage }),
    });
  }

  return {
    passportFor,
    async run(tool, args, person, fn) {
      const passport = await passportFor(tool, args, person);
      return fn(passport);
    },
  };
}
