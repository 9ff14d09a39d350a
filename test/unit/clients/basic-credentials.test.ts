// client_secret_basic (RFC 6749 §2.3.1): the client id and secret are form-urlencoded before base64,
// so a secret with `:`, `%`, `+` or a space arrives encoded and must be decoded exactly once.
import { describe, expect, it } from 'vitest';
import { authenticateClient } from '../../../src/clients/authenticate.ts';
import { hashSecret } from '../../../src/clients/secrets.ts';
import type { ClientConfig } from '../../../src/config/schema.ts';
import { parseFormParams } from '../../../src/oauth/params.ts';

const secret = 'a:b%c+d e/ü-0123456789abcdefghijklmnopqrstuvwxyz';
const client = { client_id: 'bot:1', token_endpoint_auth_method: 'client_secret_basic', secret_hash: hashSecret(secret) } as unknown as ClientConfig;
const context = { issuer: 'https://consulate.example', now: 0, replay: {} as never, keySets: {} as never, maxLifetimeSeconds: 300, clockSkewSeconds: 0 };
const lookup = async (id: string) => (id === client.client_id ? client : undefined);
const basic = (id: string, value: string) => `Basic ${Buffer.from(`${id}:${value}`).toString('base64')}`;
const attempt = (authorization: string) => authenticateClient({ authorization, params: parseFormParams('') }, lookup, context);
const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

describe('client_secret_basic credentials', () => {
  it('decodes a form-urlencoded id and secret (`:`, `%`, `+`, space, non-ASCII)', async () => {
    await expect(attempt(basic(formEncode('bot:1'), formEncode(secret)))).resolves.toMatchObject({ client: { client_id: 'bot:1' }, method: 'client_secret_basic' });
  });

  it('refuses the secret sent without encoding, or encoded twice', async () => {
    // Unencoded, `%c+` is a bad escape and the id's `:` splits early: both fail as invalid_client.
    await expect(attempt(basic(formEncode('bot:1'), secret))).rejects.toMatchObject({ code: 'invalid_client' });
    await expect(attempt(basic(formEncode('bot:1'), formEncode(formEncode(secret))))).rejects.toMatchObject({ code: 'invalid_client' });
  });

  it('takes a plain id and secret as they are, `+` as a space', async () => {
    const plain = { ...client, client_id: 'plain', secret_hash: hashSecret('two words-0123456789abcdefghijklmnopqrstuvwxyz') } as ClientConfig;
    const find = async (id: string) => (id === 'plain' ? plain : undefined);
    const auth = basic('plain', 'two+words-0123456789abcdefghijklmnopqrstuvwxyz');
    await expect(authenticateClient({ authorization: auth, params: parseFormParams('') }, find, context)).resolves.toMatchObject({ client: { client_id: 'plain' } });
  });
});
