// The SDK's public API. For resource servers and MCP servers that accept Passports: the
// framework-free guard, the Hono middleware, RFC 9728 metadata, and their types. For agents that
// obtain Passports: the agent client, its error type and its Passport cache.
export { createPassportGuard, guardDefaults, type PassportGuard } from './guard.ts';
export { configuredUrl, passportGuard, protectedResourceMetadata, ssfPushHandler, type PassportEnv, type PassportMiddlewareOptions, type PassportVariables } from './hono.ts';
// The guard as an SSF receiver (PassportGuardOptions.ssf): revocations and suspensions before expiry.
export { guardEventTypes } from './signals.ts';
export type { PushAnswer, ReceiveResult, SignalReceiver } from './ssf-receiver.ts';
export { protectedResourceMetadataDocument, protectedResourceMetadataPath, protectedResourceMetadataUrl, type ProtectedResourceMetadataOptions } from './metadata.ts';
export type {
  AuthorizationDetail,
  DetailRequirement,
  GuardError,
  GuardFailure,
  GuardHeaders,
  GuardRequest,
  GuardResult,
  GuardSuccess,
  HeaderSource,
  Passport,
  PassportGuardOptions,
  ReceivedSignal,
  SsfReceiverOptions,
  RefusalReason,
  Requirements,
  TokenReason,
} from './types.ts';
// The agent SDK: Passports for agents (client credentials, exchange, CIBA, device flow, DPoP).
export { createAgentClient, type AgentClient, type AgentClientOptions, type AgentTokens, type Pending, type Target, type Waiting } from './agent-client.ts';
export { ConsulateOAuthError } from './agent-errors.ts';
export { createPassportCache, passportCacheKey, type PassportCache, type PassportCacheKeyParts } from './passport-cache.ts';
// Tool orchestration: which Passport each of an agent's tools needs (public, its own, or a person's with approval).
export { createToolAuthorizer, ToolAuthorizationError, type ToolArgs, type ToolAuth, type ToolAuthConfig, type ToolAuthorizer, type ToolAuthorizerOptions, type ToolPending, type ToolPerson } from './tools.ts';
