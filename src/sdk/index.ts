// The guard's public API, for resource servers and MCP servers that accept Passports: the
// framework-free guard, the Hono middleware, RFC 9728 metadata, and their types.
export { createPassportGuard, guardDefaults, type PassportGuard } from './guard.ts';
export { configuredUrl, passportGuard, protectedResourceMetadata, type PassportEnv, type PassportMiddlewareOptions, type PassportVariables } from './hono.ts';
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
  RefusalReason,
  Requirements,
  TokenReason,
} from './types.ts';
