// Demo accounts and claim-to-scope maps for the stand-in upstream IdPs (see upstreams.ts).
// Each kind's accounts carry the claims the real IdP puts in its ID tokens, in its own shape.

export type UpstreamKind = 'entra' | 'okta' | 'auth0' | 'oidc';

/** `id` becomes the ID token `sub`; `username` is what the person types on the login page. */
export type UpstreamAccount = { id: string; username: string; claims: Record<string, unknown> };

/** The Entra tenant used when `startUpstream({ kind: 'entra' })` gets no `tenantId`. */
export const DEFAULT_ENTRA_TENANT_ID = 'b7e4c2a1-5d3f-4e8a-9c6b-1f2e3d4c5b6a';

/** A second tenant, for the multi-tenant stand-in (an organisation other than Contoso). */
export const FABRIKAM_ENTRA_TENANT_ID = '4d7a9c2e-81b3-4f60-a5d9-0c3e6f1b2a87';

/** Default accounts per tenant of a multi-tenant Entra stand-in: Contoso's alice and bob, Fabrikam's carol. */
export function defaultTenantAccounts(): Record<string, UpstreamAccount[]> {
  return {
    [DEFAULT_ENTRA_TENANT_ID]: defaultAccounts('entra'),
    [FABRIKAM_ENTRA_TENANT_ID]: [
      {
        id: 'Hc5rP1wQ8tZ3mV6nB9xK2jL4dF7gS0aE1yU5iO8pR3q',
        username: 'carol@fabrikam.example',
        claims: {
          oid: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
          tid: FABRIKAM_ENTRA_TENANT_ID,
          preferred_username: 'carol@fabrikam.example',
          name: 'Carol Clark',
          email: 'carol@fabrikam.example',
          xms_edov: true,
          groups: [],
        },
      },
    ],
  };
}

/** Entra group object ids used by the default Entra accounts. */
export const ENTRA_GROUPS = {
  engineering: '0f3c9a6e-2b1d-4c8e-9a7f-5d6e4b3a2c10',
  admins: '6a1e8d4b-7c2f-4f9a-b3e5-1d0c9b8a7f62',
  everyone: 'e2d4c6b8-a1f3-4e5d-8c7b-9a0f1e2d3c4b',
} as const;

/**
 * Fresh copies of the demo accounts for a kind (safe to mutate). Every kind has `alice`
 * (verified email, admin-ish groups/roles) and `bob` (unverified email: `email_verified: false`,
 * or for Entra no `xms_edov`).
 */
export function defaultAccounts(kind: UpstreamKind, options: { tenantId?: string } = {}): UpstreamAccount[] {
  switch (kind) {
    case 'entra': {
      const tid = options.tenantId ?? DEFAULT_ENTRA_TENANT_ID;
      return [
        {
          // Entra's `sub` is an opaque per-application value; `oid` is the stable user object id.
          id: 'Zx3d8bQ2mVnK7pL0sR4tU6wY9aC1eG5iJ8kM2oQ4sU0',
          username: 'alice@contoso.example',
          claims: {
            oid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
            tid,
            preferred_username: 'alice@contoso.example',
            name: 'Alice Anderson',
            given_name: 'Alice',
            family_name: 'Anderson',
            email: 'alice@contoso.example',
            xms_edov: true,
            groups: [ENTRA_GROUPS.engineering, ENTRA_GROUPS.admins, ENTRA_GROUPS.everyone],
          },
        },
        {
          // A guest whose email domain is not verified by the tenant: no `xms_edov`.
          id: 'Qm7vT2xW9yB4nC6pD8rF0hJ3kL5mN1qS7uV9wX2zA4c',
          username: 'bob@contoso.example',
          claims: {
            oid: '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d',
            tid,
            preferred_username: 'bob@contoso.example',
            name: 'Bob Brown',
            given_name: 'Bob',
            family_name: 'Brown',
            email: 'bob@fabrikam.example',
            groups: [ENTRA_GROUPS.everyone],
          },
        },
      ];
    }
    case 'okta':
      return [
        {
          id: '00u1a2b3c4d5e6f7g8h9',
          username: 'alice@example.com',
          claims: {
            uid: '00u1a2b3c4d5e6f7g8h9',
            preferred_username: 'alice@example.com',
            name: 'Alice Anderson',
            given_name: 'Alice',
            family_name: 'Anderson',
            email: 'alice@example.com',
            email_verified: true,
            groups: ['Everyone', 'Engineering', 'Admins'],
          },
        },
        {
          id: '00u9z8y7x6w5v4u3t2s1',
          username: 'bob@example.com',
          claims: {
            uid: '00u9z8y7x6w5v4u3t2s1',
            preferred_username: 'bob@example.com',
            name: 'Bob Brown',
            given_name: 'Bob',
            family_name: 'Brown',
            email: 'bob@example.com',
            email_verified: false,
            groups: ['Everyone'],
          },
        },
      ];
    case 'auth0':
      return [
        {
          id: 'auth0|abc123',
          username: 'alice@example.com',
          claims: {
            name: 'Alice Anderson',
            nickname: 'alice',
            email: 'alice@example.com',
            email_verified: true,
            'https://example.com/roles': ['admin'],
            'https://example.com/org': 'acme',
          },
        },
        {
          id: 'auth0|def456',
          username: 'bob@example.com',
          claims: {
            name: 'Bob Brown',
            nickname: 'bob',
            email: 'bob@example.com',
            email_verified: false,
            'https://example.com/roles': [],
            'https://example.com/org': 'acme',
          },
        },
      ];
    case 'oidc':
      return [
        {
          id: 'alice',
          username: 'alice@example.org',
          claims: {
            name: 'Alice Anderson',
            given_name: 'Alice',
            family_name: 'Anderson',
            preferred_username: 'alice',
            email: 'alice@example.org',
            email_verified: true,
          },
        },
        {
          id: 'bob',
          username: 'bob@example.org',
          claims: {
            name: 'Bob Brown',
            given_name: 'Bob',
            family_name: 'Brown',
            preferred_username: 'bob',
            email: 'bob@example.org',
            email_verified: false,
          },
        },
      ];
  }
}

const STANDARD_PROFILE = [
  'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile',
  'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
];

/** Which scope releases which claims, per kind (before custom claims are added to `openid`). */
export const SCOPE_CLAIMS: Record<UpstreamKind, Record<string, string[]>> = {
  // Entra v2: `tid` always; `oid` needs `profile`; `email` (and its optional claim `xms_edov`)
  // needs `email`. `groups` comes from the app's groupMembershipClaims, not a scope: it is a
  // custom claim, so it rides on `openid`.
  entra: {
    openid: ['sub', 'tid'],
    profile: ['name', 'preferred_username', 'oid', 'given_name', 'family_name'],
    email: ['email', 'xms_edov'],
  },
  // Okta custom authorization server: `groups` via a `groups` scope (the usual groups claim
  // filter setup); `uid` is a custom claim, so it rides on `openid`.
  okta: {
    openid: ['sub'],
    profile: STANDARD_PROFILE,
    email: ['email', 'email_verified'],
    address: ['address'],
    phone: ['phone_number', 'phone_number_verified'],
    groups: ['groups'],
  },
  // Auth0: namespaced claims (added by Actions whatever the scope) ride on `openid`.
  auth0: {
    openid: ['sub'],
    profile: STANDARD_PROFILE,
    email: ['email', 'email_verified'],
  },
  oidc: {
    openid: ['sub'],
    profile: STANDARD_PROFILE,
    email: ['email', 'email_verified'],
    address: ['address'],
    phone: ['phone_number', 'phone_number_verified'],
  },
};

/** Claims about the authentication event, released with `openid` whenever the session has them. */
export const AUTHENTICATION_CLAIMS = ['auth_time', 'acr', 'amr'];

/**
 * oidc-provider `claims` configuration for a kind: its scope map, plus every account claim no
 * scope covers added to `openid` (custom claims are always released, like Auth0 Actions or
 * Entra optional claims), plus auth_time/acr/amr on `openid`.
 */
export function claimsConfig(kind: UpstreamKind, accounts: UpstreamAccount[]): Record<string, string[]> {
  const config: Record<string, string[]> = {};
  for (const [scope, claims] of Object.entries(SCOPE_CLAIMS[kind])) config[scope] = [...claims];
  const covered = new Set(Object.values(config).flat());
  const openid = config.openid ?? (config.openid = ['sub']);
  for (const account of accounts) {
    for (const claim of Object.keys(account.claims)) {
      if (!covered.has(claim)) {
        covered.add(claim);
        openid.push(claim);
      }
    }
  }
  for (const claim of AUTHENTICATION_CLAIMS) if (!openid.includes(claim)) openid.push(claim);
  return config;
}

/** acr values each stand-in advertises in `acr_values_supported` (any requested value is honoured). */
export const ACR_VALUES: Record<UpstreamKind, string[]> = {
  entra: ['pwd', 'mfa'],
  okta: ['urn:okta:loa:1fa:any', 'urn:okta:loa:2fa:any', 'phr', 'phrh', 'pwd', 'mfa'],
  auth0: ['http://schemas.openid.net/pape/policies/2007/06/multi-factor', 'pwd', 'mfa'],
  oidc: ['pwd', 'mfa'],
};

/** `amr` for a login at `acr` when the test does not say: MFA-looking levels add 'mfa'. */
export function amrFor(acr: string | undefined): string[] {
  return acr && /mfa|2fa|multi-factor|phr/i.test(acr) ? ['pwd', 'mfa'] : ['pwd'];
}
