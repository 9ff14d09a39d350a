// The authorization server's metadata (RFC 8414), fetched on first use and kept: the guard needs
// its `jwks_uri` and, for introspection, its `introspection_endpoint`. A failed fetch is not kept,
// so the next request tries again. It must not trust a document naming another issuer (§3.3).
import { z } from 'zod';

export type IssuerMetadata = { issuer: string; jwks_uri?: string | undefined; introspection_endpoint?: string | undefined };

const metadataSchema = z.looseObject({
  issuer: z.string(),
  jwks_uri: z.url().optional(),
  introspection_endpoint: z.url().optional(),
});

const timeoutMs = 5000;

/** RFC 8414 §3.1: the well-known segment goes between host and path; issuers with a path also get the appended form. */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  const inserted = `${url.origin}/.well-known/oauth-authorization-server${path}`;
  const appended = `${url.origin}${path}/.well-known/oauth-authorization-server`;
  return inserted === appended ? [inserted] : [inserted, appended];
}

export function createMetadataSource(issuer: string, fetchImpl: typeof fetch): () => Promise<IssuerMetadata> {
  let pending: Promise<IssuerMetadata> | undefined;
  const load = async (): Promise<IssuerMetadata> => {
    let lastError: unknown;
    for (const url of metadataUrls(issuer)) {
      try {
        const response = await fetchImpl(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
        if (response.status !== 200) throw new Error(`metadata: HTTP ${response.status}`);
        const metadata = metadataSchema.parse(await response.json());
        if (metadata.issuer !== issuer) throw new Error('metadata: the document names another issuer');
        return metadata;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('metadata: not available');
  };
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
