// Checks of the settings for clients the operator does not list (metadata documents, registration):
// the resources and scopes they may reach exist, and the extra CA file is there and holds a
// certificate, so that a typo is a config problem at its line rather than a failed start.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Located } from './types.ts';
import type { ConfigProblem } from './problems.ts';
import type { MainConfig, ResourceConfig } from './schema.ts';

export function checkOpenClients(main: Located<MainConfig>, resources: ReadonlyMap<string, ResourceConfig>, dir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const at = main.source;
  for (const block of ['client_id_metadata_documents', 'dynamic_registration'] as const) {
    for (const [uri, allowed] of Object.entries(main[block].resources)) {
      const resource = resources.get(uri);
      if (!resource) {
        problems.push(at.problem([block, 'resources'], `unknown resource ${uri}`, uri));
        continue;
      }
      allowed.scopes.forEach((scope, i) => {
        if (!Object.hasOwn(resource.scopes, scope)) problems.push(at.problem([block, 'resources', uri, 'scopes', i], `resource ${uri} has no scope "${scope}"`));
      });
    }
  }
  const caFile = main.client_id_metadata_documents.ca_file;
  if (caFile !== undefined) {
    const path = isAbsolute(caFile) ? caFile : join(dir, caFile);
    const text = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (text === undefined) problems.push(at.problem(['client_id_metadata_documents', 'ca_file'], `file not found: ${caFile}`));
    else if (!text.includes('-----BEGIN CERTIFICATE-----')) problems.push(at.problem(['client_id_metadata_documents', 'ca_file'], `${caFile} holds no PEM certificate`));
  }
  return problems;
}
