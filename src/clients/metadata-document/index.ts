// Client ID Metadata Documents: an https client_id whose metadata is fetched from that URL.
export { isMetadataDocumentUrl, isLoopbackHost, maxMetadataDocumentUrlLength, type MetadataDocumentUrlOptions } from './url.ts';
export { classifyAddress, isAllowedAddress, type AddressClass, type AddressOptions } from './address.ts';
export { parseClientMetadataJson, validateClientMetadataDocument, type ClientMetadataDocument, type DocumentResult } from './document.ts';
export {
  ClientMetadataError,
  fetchClientMetadataDocument,
  guardedLookup,
  type ClientMetadataErrorReason,
  type FetchedClientDocument,
  type MetadataDocumentLimits,
} from './fetch.ts';
