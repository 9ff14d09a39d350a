// The loaded config's shape: a leaf (types only), so that the checks load.ts runs (mappings,
// policies, cross-checks) can name it without importing the loader that imports them.
import type { YamlSource } from './yaml-source.ts';
import type { ClientConfig, IssuerConfig, MainConfig, MappingConfig, PolicyConfig, ResourceConfig, UpstreamConfig } from './schema.ts';

/** A config file's value with the YAML source it came from (for file:line:col problems). */
export type Located<T> = T & { readonly source: YamlSource };

export type Config = {
  readonly dir: string;
  readonly main: MainConfig;
  readonly clients: ReadonlyMap<string, Located<ClientConfig>>;
  readonly resources: ReadonlyMap<string, Located<ResourceConfig>>;
  readonly upstreams: ReadonlyMap<string, Located<UpstreamConfig>>;
  /** Issuers trusted for JWT bearer assertions and ID-JAGs (config/issuers/), by id. */
  readonly issuers: ReadonlyMap<string, Located<IssuerConfig>>;
  /** Claims mapping rule sets by id: the presets (`preset:<kind>`) and config/mappings/. */
  readonly mappings: ReadonlyMap<string, Located<MappingConfig>>;
  /** Policies (config/policies/) by id (the file name without .yaml), in file-name order. */
  readonly policies: ReadonlyMap<string, Located<PolicyConfig>>;
};
