// Is a client_id a Client ID Metadata Document URL (draft-ietf-oauth-client-id-metadata-document §3)?
// Purely syntactic: whether it may be fetched (addresses, allowed hosts) is fetch.ts's business.
export const maxMetadataDocumentUrlLength = 2000;

const loopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);

export type MetadataDocumentUrlOptions = { allowLoopbackHttp: boolean };

export function isLoopbackHost(hostname: string): boolean {
  return loopbackHosts.has(hostname);
}

export function isMetadataDocumentUrl(id: string, options: MetadataDocumentUrlOptions): boolean {
  if (typeof id !== 'string' || id.length > maxMetadataDocumentUrlLength) return false;
  let url: URL;
  try {
    url = new URL(id);
  } catch {
    return false;
  }
  if (url.protocol === 'http:') {
    if (!options.allowLoopbackHttp || !isLoopbackHost(url.hostname)) return false;
  } else if (url.protocol !== 'https:') {
    return false;
  }
  // The client_id is compared as a string everywhere, so only its one canonical spelling is accepted.
  if (url.href !== id) return false;
  if (id.includes('#') || url.username || url.password) return false;
  if (url.pathname === '/' || url.pathname === '') return false;
  return !hasDotSegment(rawPath(id));
}

// The path as written (URL() would already have resolved `.`/`..`, also their %2e spellings).
function rawPath(id: string): string {
  const afterScheme = id.slice(id.indexOf('//') + 2);
  const slash = afterScheme.search(/[/?]/);
  if (slash < 0 || afterScheme[slash] === '?') return '';
  return afterScheme.slice(slash).split('?')[0] ?? '';
}

function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}
