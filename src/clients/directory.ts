// Which client a client_id names: one listed in config/clients/, one that registered itself
// (RFC 7591), or an MCP client whose client_id is the URL of its Client ID Metadata Document.
// A listed agent comes with the lifecycle state in force now (agents/state.ts), not only its file's.
// `findClient` never goes to the network (introspection, userinfo, checks after issuance);
// `resolveClient` fetches a document that is unknown or due for a refresh (authorize, token), each
// fetch counted against rate_limits.metadata_document_fetches for the request's source address.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../config/load.ts';
import type { ClientConfig } from '../config/schema.ts';
import type { RateLimits } from '../limits/limits.ts';
import type { Logger } from '../log.ts';
import type { DynamicClientRecord, Store } from '../store/ports.ts';
import { ClientMetadataError, fetchClientMetadataDocument, isMetadataDocumentUrl, type MetadataDocumentLimits } from './metadata-document/index.ts';
import { openClient, type OpenClientMetadata } from './open-client.ts';
import { withCurrentState } from '../agents/state.ts';

type DirectoryDeps = { config: Config; store: Store; log: Logger; now: () => number; clientDocuments: ClientDocuments; rateLimits?: Pick<RateLimits, 'metadataDocumentFetch'> };

export type ClientLookup = (clientId: string) => Promise<ClientConfig | undefined>;

/** Fetches documents with the configured limits; one fetch at a time per URL. */
export type ClientDocuments = {
  readonly enabled: boolean;
  readonly allowLoopbackHttp: boolean;
  fetch(url: string): ReturnType<typeof fetchClientMetadataDocument>;
};

export function createClientDocuments(config: Config): ClientDocuments {
  const settings = config.main.client_id_metadata_documents;
  const caFile = settings.ca_file === undefined ? undefined : isAbsolute(settings.ca_file) ? settings.ca_file : join(config.dir, settings.ca_file);
  const limits: MetadataDocumentLimits = {
    maxBytes: settings.max_bytes,
    timeoutMs: settings.timeout_ms,
    allowLoopbackHttp: settings.allow_loopback_http,
    ca: caFile === undefined ? undefined : readFileSync(caFile, 'utf8'),
    minCacheSeconds: settings.min_cache_seconds,
    maxCacheSeconds: settings.max_cache_seconds,
    allowedHosts: settings.allowed_hosts,
  };
  const inFlight = new Map<string, ReturnType<typeof fetchClientMetadataDocument>>();
  return {
    enabled: settings.enabled,
    allowLoopbackHttp: settings.allow_loopback_http,
    fetch(url) {
      const running = inFlight.get(url);
      if (running) return running;
      const started = fetchClientMetadataDocument(url, limits).finally(() => inFlight.delete(url));
      inFlight.set(url, started);
      return started;
    },
  };
}

const isDocumentUrl = (deps: DirectoryDeps, clientId: string): boolean =>
  deps.clientDocuments.enabled && isMetadataDocumentUrl(clientId, { allowLoopbackHttp: deps.clientDocuments.allowLoopbackHttp });

function fromRecord(deps: DirectoryDeps, record: DynamicClientRecord): ClientConfig | undefined {
  const main = deps.config.main;
  // Turning a feature off cuts its clients off: their Passports introspect inactive.
  if (record.source === 'document' && !isDocumentUrl(deps, record.clientId)) return undefined;
  const resources = record.source === 'document' ? main.client_id_metadata_documents.resources : main.dynamic_registration.resources;
  try {
    return openClient(record.client as OpenClientMetadata, resources);
  } catch {
    deps.log.warn({ client_id: record.clientId, source: record.source }, 'stored dynamic client no longer fits the client schema');
    return undefined;
  }
}

/** The client, without fetching anything. */
export async function findClient(deps: DirectoryDeps, clientId: string): Promise<ClientConfig | undefined> {
  const listed = deps.config.clients.get(clientId);
  if (listed) return withCurrentState(deps.store.agentStates, listed);
  const record = await deps.store.dynamicClients.find(clientId);
  return record ? fromRecord(deps, record) : undefined;
}

/**
 * The client, fetching its metadata document when unknown or stale. Undefined when there is none.
 * `source`: the request's source address; a fetch over its limit is a 429 (nothing fetched).
 */
export async function resolveClient(deps: DirectoryDeps, clientId: string, source?: string): Promise<ClientConfig | undefined> {
  const listed = deps.config.clients.get(clientId);
  if (listed) return withCurrentState(deps.store.agentStates, listed);
  const record = await deps.store.dynamicClients.find(clientId);
  const now = deps.now();
  if (record && (record.source === 'registration' || (record.refreshAt ?? 0) > now)) return fromRecord(deps, record);
  if (!isDocumentUrl(deps, clientId)) return undefined;
  await deps.rateLimits?.metadataDocumentFetch(source);
  try {
    const { document, cacheSeconds } = await deps.clientDocuments.fetch(clientId);
    const metadata: OpenClientMetadata = {
      client_id: document.client_id,
      client_name: document.client_name,
      redirect_uris: document.redirect_uris,
      post_logout_redirect_uris: document.post_logout_redirect_uris,
      grant_types: document.grant_types,
      token_endpoint_auth_method: document.token_endpoint_auth_method,
      jwks: document.jwks,
    };
    const fresh: DynamicClientRecord = { clientId, source: 'document', client: metadata, refreshAt: now + cacheSeconds, createdAt: record?.createdAt ?? now, updatedAt: now };
    const client = fromRecord(deps, fresh);
    if (!client) return undefined;
    if (record) await deps.store.dynamicClients.save(fresh);
    // A new document client counts against the cap, so unknown URLs cannot fill the database.
    else if (!(await deps.store.dynamicClients.register(fresh, deps.config.main.client_id_metadata_documents.max_clients))) {
      deps.log.warn({ client_id: clientId, reason: 'documents_full' }, 'client metadata document refused');
      return undefined;
    }
    return client;
  } catch (error) {
    // A document that cannot be fetched or is invalid names no client, even if an older copy is stored.
    const reason = error instanceof ClientMetadataError ? error.reason : 'internal';
    deps.log.warn({ client_id: clientId, reason }, 'client metadata document refused');
    return undefined;
  }
}

export const clientLookup = (deps: DirectoryDeps, source?: string): ClientLookup => (clientId) => resolveClient(deps, clientId, source);

/** Every client is known and active (agents: their state in force now; dynamic clients are active while known). */
export async function allActive(deps: DirectoryDeps, clientIds: readonly string[]): Promise<boolean> {
  for (const id of new Set(clientIds)) {
    const client = await findClient(deps, id);
    if (client === undefined || client.state !== 'active') return false;
  }
  return true;
}
