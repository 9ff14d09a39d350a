// Zod schemas of the rule files — claims mapping rule sets (config/mappings/) and policies
// (config/policies/) — whose conditions are CEL. Shapes only; compile checks are in claims/ and
// obligations/. Re-exported by schema.ts.
import { z } from 'zod';

export const claimTransforms = ['trim', 'lower', 'upper', 'unique', 'sort', 'first'] as const;

const celExpression = z.string().min(1).max(2000).describe('A CEL expression over `claims` (the upstream claims), `tables` and `upstream` (id, kind, issuer).');
const claimName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'lowercase letters, digits and _ (a canonical claim name)');

const claimRule = z.union([
  celExpression,
  z.strictObject({
    expr: celExpression.optional().describe('The value. Absent: only `default`.'),
    when: celExpression.optional().describe('A CEL condition (bool); when false the claim gets `default`, or is left out.'),
    default: z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()]))]).optional().describe('Used when `when` is false or `expr` yields nothing (a missing claim, null).'),
    transform: z.array(z.enum(claimTransforms)).default([]).describe('Applied in order after the value is computed: trim, lower, upper (strings or lists of strings), unique, sort, first (lists).'),
  }),
]);

export const mappingSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes').describe('Rule set id; an upstream names it with `mapping: <id>`.'),
    description: z.string().max(500).optional().describe('What this rule set is for, in words (for operators).'),
    subject: celExpression.describe('CEL (string): the upstream claim(s) that identify the person, never a mutable one like email. Becomes orig_sub.'),
    tables: z
      .record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a table name'), z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])))
      .default({})
      .describe('Lookup tables, e.g. upstream group id → role: `tables.group_roles[g]` in expressions.'),
    claims: z.record(claimName, claimRule).default({}).describe('Canonical claim name → rule (a CEL expression, or {expr, when, default, transform}).'),
    deny: z
      .array(z.strictObject({ when: celExpression.describe('CEL (bool): the login is refused when true.'), reason: z.string().min(1).max(300).describe('Shown to the person and recorded.') }))
      .default([])
      .describe('Rules that refuse the login; checked in order on the upstream claims and the mapped claims (`canonical`).'),
    require: z.array(claimName).default([]).describe('Canonical claims that must be present (not null, not an empty string or list) or the login is refused.'),
  })
  .describe('A claims mapping rule set (config/mappings/*.yaml, one per file).');

export type MappingConfig = z.output<typeof mappingSchema>;

// ---- policies (config/policies/*.yaml): obligations at issuance (src/obligations/) ----------------

const policyCondition = z
  .string()
  .min(1)
  .max(2000)
  .describe('CEL (bool) over client (client_id, kind, owner, name), person (canonical claims), scopes, resource, details (authorization details), grant and risk (new_agent, chain).');
const policyReason = z.string().min(1).max(300).describe('Sent to the client as the error_description and recorded.');
const policyDeny = z.strictObject({ deny: z.strictObject({ reason: policyReason }).describe('Refuse the request with this reason.') });
const policyApprovers = z
  .union([
    z.literal('subject').describe('The person represented approves.'),
    z.literal('manager').describe('The person whose e-mail is in the canonical claim `manager` approves.'),
    z.strictObject({ manager: z.strictObject({ claim: claimName.default('manager').describe('Canonical claim of the person represented that holds their manager\'s e-mail.') }) }),
    z.strictObject({ dual: z.strictObject({ group: z.string().min(1).max(200).describe('Two different members of this group (canonical claim groups) approve; never the person represented nor the agent\'s owner.') }) }),
  ])
  .describe('Who approves: subject, manager, {manager: {claim}} or {dual: {group}}.');
const policyObligations = z
  .strictObject({
    step_up: z
      .strictObject({
        acr: z.string().min(1).max(200).optional().describe('The person must have authenticated with this acr.'),
        max_age: z.number().int().min(0).max(2_592_000).optional().describe('The person must have authenticated at most this many seconds ago.'),
      })
      .refine((s) => s.acr !== undefined || s.max_age !== undefined, 'give acr, max_age or both')
      .optional()
      .describe('Agent flows refuse with insufficient_user_authentication (RFC 9470) unless the subject\'s authentication already satisfies it.'),
    consent: z
      .strictObject({
        approvers: policyApprovers.default('subject'),
        validity_seconds: z.number().int().min(10).max(86400).optional().describe('How long the request waits for the approvals (at most ciba.max_expiry_seconds and the subject token\'s lifetime). Default: ciba.default_expiry_seconds.'),
      })
      .optional()
      .describe('Agent flows pause (authorization_pending with an auth_req_id) until the approvers approve.'),
  })
  .refine((o) => o.step_up !== undefined || o.consent !== undefined, 'give step_up, consent or both');
export const policySchema = z
  .strictObject({
    description: z.string().max(500).optional().describe('What this policy is for, in words (for operators).'),
    rules: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ and -').describe('Names the rule in errors, the audit log and `consulate policy explain`.'),
          when: policyCondition,
          then: z.union([z.literal('allow'), policyDeny, z.strictObject({ obligations: policyObligations })]).describe('allow, {deny: {reason}} or {obligations: {step_up, consent}}.'),
        }),
      )
      .max(200)
      .default([])
      .describe('Checked in order; the first rule whose `when` is true decides.'),
    default: z.union([z.literal('allow'), policyDeny]).default('allow').describe('When no rule matches.'),
  })
  .describe('A policy (config/policies/*.yaml): ordered rules deciding allow, deny or obligations for a request. Files apply in name order; the first one that does not allow decides.');
export type PolicyConfig = z.output<typeof policySchema>;
export type PolicyApprovers = z.output<typeof policyApprovers>;
export type ClaimRule = z.output<typeof claimRule>;
