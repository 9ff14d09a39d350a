// Checks what one file cannot check alone: unique ids, references between clients and resources,
// credentials that fit the auth method, RAR schemas that compile, lifetimes within bounds.
import { compileDetailsSchema } from '../oauth/authorization-details.ts';
import { isMultiTenantAuthority } from '../federation/entra-tenants.ts';
import type { Located } from './types.ts';
import type { ConfigProblem } from './problems.ts';
import { ssfResourceOf } from './ssf-schema.ts';
import { reservedClaims, type ClientConfig, type IssuerConfig, type MainConfig, type ResourceConfig, type UpstreamConfig } from './schema.ts';
import { tokenExchangeGrant, jwtBearerGrant, cibaGrant, deviceCodeGrant } from '../oauth/grant-types.ts';

const secretHashFormat = /^(sha256:[A-Za-z0-9_-]{43}|scrypt:\d+:\d+:\d+:[A-Za-z0-9_-]{22,}:[A-Za-z0-9_-]{43,})$/;

export function crossCheck(config: {
  main: Located<MainConfig>;
  clients: Located<ClientConfig>[];
  resources: Located<ResourceConfig>[];
  upstreams: Located<UpstreamConfig>[];
  issuers?: Located<IssuerConfig>[];
}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  checkUpstreams(config.upstreams, problems);
  const issuers = checkIssuers(config.issuers ?? [], problems);
  const resources = new Map<string, Located<ResourceConfig>>();

  for (const resource of config.resources) {
    const at = resource.source;
    if (resources.has(resource.resource)) problems.push(at.problem(['resource'], `resource ${resource.resource} is defined twice (also in ${resources.get(resource.resource)?.source.file})`));
    resources.set(resource.resource, resource);
    const ttl = resource.passport_ttl_seconds;
    if (ttl !== undefined && ttl > config.main.passports.max_ttl_seconds) {
      problems.push(at.problem(['passport_ttl_seconds'], `must be at most passports.max_ttl_seconds (${config.main.passports.max_ttl_seconds})`));
    }
    for (const [type, definition] of Object.entries(resource.authorization_details_types)) {
      const error = compileDetailsSchema(definition.schema).error;
      if (error) problems.push(at.problem(['authorization_details_types', type, 'schema'], `invalid JSON Schema: ${error}`));
    }
  }
  for (const resource of config.resources) {
    resource.downstream.forEach((uri, i) => {
      if (!resources.has(uri)) problems.push(resource.source.problem(['downstream', i], `unknown resource ${uri}`));
    });
  }

  checkSsfResource(config.main, resources, problems);

  const clientIds = new Map<string, string>();
  for (const client of config.clients) {
    const at = client.source;
    const seen = clientIds.get(client.client_id);
    if (seen) problems.push(at.problem(['client_id'], `client ${client.client_id} is defined twice (also in ${seen})`));
    clientIds.set(client.client_id, at.file);

    const method = client.token_endpoint_auth_method;
    if (method === 'private_key_jwt') {
      if (!client.jwks === !client.jwks_uri) problems.push(at.problem(['token_endpoint_auth_method'], 'private_key_jwt needs exactly one of jwks or jwks_uri'));
      if (client.secret_hash) problems.push(at.problem(['secret_hash'], 'a private_key_jwt client has no secret'));
    } else if (method === 'none') {
      if (client.secret_hash || client.jwks || client.jwks_uri) problems.push(at.problem(['token_endpoint_auth_method'], 'a public client (none) has no secret and no keys'));
      for (const grant of ['client_credentials', tokenExchangeGrant, jwtBearerGrant, cibaGrant] as const) {
        if (client.grant_types.includes(grant)) problems.push(at.problem(['grant_types'], `a public client (none) cannot use ${grant}`));
      }
    } else {
      if (!client.secret_hash) problems.push(at.problem(['token_endpoint_auth_method'], `${method} needs secret_hash`));
      else if (!secretHashFormat.test(client.secret_hash)) {
        problems.push(at.problem(['secret_hash'], 'not a secret hash: use `consulate secret generate` or `consulate secret hash` (sha256:… or scrypt:…)'));
      }
      if (client.jwks || client.jwks_uri) problems.push(at.problem(['jwks'], `${method} clients have no keys`));
    }

    for (const [index, name] of (client.claims ?? []).entries()) {
      if ((reservedClaims as readonly string[]).includes(name) && name !== 'orig_iss' && name !== 'orig_sub') {
        problems.push(at.problem(['claims', index], `${name} is a protocol claim: it is always set by Consulate and cannot be selected`));
      }
    }
    if (client.grant_types.includes('authorization_code') && client.redirect_uris.length === 0) {
      problems.push(at.problem(['redirect_uris'], 'a client using authorization_code needs at least one redirect URI'));
    }
    if (client.grant_types.includes('refresh_token') && !client.grant_types.includes('authorization_code') && !client.grant_types.includes(cibaGrant) && !client.grant_types.includes(deviceCodeGrant)) {
      problems.push(at.problem(['grant_types'], 'refresh_token is issued only with authorization_code, CIBA or the device code grant'));
    }
    // CIBA §10.2: a ping needs somewhere to go.
    if (client.backchannel_token_delivery_mode === 'ping' && !client.backchannel_client_notification_endpoint) {
      problems.push(at.problem(['backchannel_client_notification_endpoint'], 'a ping client (backchannel_token_delivery_mode: ping) needs a notification endpoint'));
    }

    for (const [uri, grant] of Object.entries(client.resources)) {
      const resource = resources.get(uri);
      if (!resource) {
        problems.push(at.problem(['resources'], `unknown resource ${uri}`, uri));
        continue;
      }
      grant.scopes.forEach((scope, i) => {
        if (!Object.hasOwn(resource.scopes, scope)) problems.push(at.problem(['resources', uri, 'scopes', i], `resource ${uri} has no scope "${scope}"`));
      });
      grant.authorization_details_types.forEach((type, i) => {
        if (!Object.hasOwn(resource.authorization_details_types, type)) {
          problems.push(at.problem(['resources', uri, 'authorization_details_types', i], `resource ${uri} has no authorization_details type "${type}"`));
        }
      });
      for (const type of Object.keys(grant.actions)) {
        if (!grant.authorization_details_types.includes(type)) problems.push(at.problem(['resources', uri, 'actions', type], `"${type}" is not one of this resource's authorization_details_types here`));
      }
    }
    checkDelegation(client, config, resources, issuers, problems);
    if (client.default_resource !== undefined && !Object.hasOwn(client.resources, client.default_resource)) {
      problems.push(at.problem(['default_resource'], 'must be one of the client\'s resources'));
    }
    client.introspects.forEach((uri, i) => {
      if (!resources.has(uri)) problems.push(at.problem(['introspects', i], `unknown resource ${uri}`));
    });
  }
  return problems;
}

/** An enabled SSF transmitter needs its resource declared, with the `ssf` scope receivers ask for (when the issuer, hence the default, is known). */
function checkSsfResource(main: Located<MainConfig>, resources: ReadonlyMap<string, Located<ResourceConfig>>, problems: ConfigProblem[]): void {
  if (!main.ssf.enabled || (main.ssf.resource === undefined && main.issuer === undefined)) return;
  const uri = ssfResourceOf(main.ssf, main.issuer ?? '');
  const resource = resources.get(uri);
  if (!resource) problems.push(main.source.problem(['ssf', 'enabled'], `the SSF resource ${uri} is not declared in resources/ (receivers need Passports for it, with scope ssf)`));
  else if (!Object.hasOwn(resource.scopes, 'ssf')) problems.push(resource.source.problem(['scopes'], `the SSF resource needs an "ssf" scope`));
}

function checkDelegation(
  client: Located<ClientConfig>,
  config: { clients: Located<ClientConfig>[]; upstreams: Located<UpstreamConfig>[] },
  resources: ReadonlyMap<string, unknown>,
  issuers: ReadonlySet<string>,
  problems: ConfigProblem[],
): void {
  const at = client.source;
  if (client.kind === 'agent') {
    if (!client.owner) problems.push(at.problem(['kind'], 'an agent needs an owner (the e-mail of the person responsible for it)'));
    if (!client.delegation) problems.push(at.problem(['kind'], 'an agent needs a delegation policy (delegation:)'));
  } else if (client.owner !== undefined || client.state !== 'active') {
    problems.push(at.problem([client.owner !== undefined ? 'owner' : 'state'], 'owner and state are for clients of kind agent'));
  }
  const delegates = client.grant_types.includes(tokenExchangeGrant) || client.grant_types.includes(jwtBearerGrant);
  if (delegates && !client.delegation) problems.push(at.problem(['grant_types'], 'token exchange and JWT bearer need a delegation policy (delegation:)'));
  const policy = client.delegation;
  if (!policy) return;
  const clientIds = new Set(config.clients.map((c) => c.client_id));
  policy.subject_token_clients.forEach((id, i) => {
    if (!clientIds.has(id)) problems.push(at.problem(['delegation', 'subject_token_clients', i], `unknown client ${id}`));
  });
  policy.subject_token_audiences.forEach((uri, i) => {
    if (!resources.has(uri)) problems.push(at.problem(['delegation', 'subject_token_audiences', i], `unknown resource ${uri}`));
  });
  policy.act_for.clients.forEach((id, i) => {
    if (!clientIds.has(id)) problems.push(at.problem(['delegation', 'act_for', 'clients', i], `unknown client ${id}`));
  });
  policy.subject_token_upstreams.forEach((id, i) => {
    const upstream = config.upstreams.find((u) => u.id === id);
    if (!upstream) problems.push(at.problem(['delegation', 'subject_token_upstreams', i], `unknown upstream ${id}`));
    else if (!upstream.exchange) problems.push(at.problem(['delegation', 'subject_token_upstreams', i], `upstream ${id} is not trusted for exchange (no exchange: block)`));
  });
  policy.jwt_bearer_issuers.forEach((id, i) => {
    if (!issuers.has(id)) problems.push(at.problem(['delegation', 'jwt_bearer_issuers', i], `unknown issuer ${id} (config/issuers/)`));
  });
}

function checkIssuers(issuers: Located<IssuerConfig>[], problems: ConfigProblem[]): Set<string> {
  const ids = new Map<string, string>();
  for (const issuer of issuers) {
    const seen = ids.get(issuer.id);
    if (seen) problems.push(issuer.source.problem(['id'], `issuer ${issuer.id} is defined twice (also in ${seen})`));
    ids.set(issuer.id, issuer.source.file);
    if (!issuer.jwks === !issuer.jwks_uri) problems.push(issuer.source.problem(['jwks'], 'give exactly one of jwks or jwks_uri'));
  }
  return new Set(ids.keys());
}

function checkUpstreams(upstreams: Located<UpstreamConfig>[], problems: ConfigProblem[]): void {
  const ids = new Map<string, string>();
  const domains = new Map<string, string>();
  for (const upstream of upstreams) {
    const at = upstream.source;
    const seen = ids.get(upstream.id);
    if (seen) problems.push(at.problem(['id'], `upstream ${upstream.id} is defined twice (also in ${seen})`));
    ids.set(upstream.id, at.file);
    if (!upstream.scopes.includes('openid')) problems.push(at.problem(['scopes'], 'must include openid'));
    // A template is not an issuer: discovery happens at the authority, which announces the template.
    if (/\{tenantid\}|%7Btenantid%7D/i.test(upstream.issuer)) {
      problems.push(at.problem(['issuer'], upstream.kind === 'entra'
        ? 'give the multi-tenant authority (…/organizations/v2.0 or …/common/v2.0), not the {tenantid} issuer template its discovery document announces'
        : 'an issuer template ({tenantid}) is understood only for kind entra, at its multi-tenant authority'));
    }
    if (upstream.allowed_tenants && !isMultiTenantAuthority(upstream.kind, upstream.issuer)) {
      problems.push(at.problem(['allowed_tenants'], 'only for kind entra with a multi-tenant authority issuer (…/organizations/v2.0 or …/common/v2.0)'));
    }
    upstream.email_domains.forEach((domain, i) => {
      const owner = domains.get(domain.toLowerCase());
      if (owner && owner !== upstream.id) problems.push(at.problem(['email_domains', i], `domain ${domain} is already routed to upstream ${owner}`));
      domains.set(domain.toLowerCase(), upstream.id);
    });
  }
}
