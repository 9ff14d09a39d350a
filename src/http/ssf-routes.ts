// The SSF transmitter on the wire (OpenID Shared Signals Framework 1.0): its metadata, stream
// management (configuration, status, verification) and the poll endpoint of each poll stream
// (RFC 8936). Every endpoint but the metadata needs a receiver's Passport (ssf-auth.ts) and works
// on that receiver's streams only. Management errors are OAuth error objects; the poll endpoint's
// bad requests are RFC 8935 §2.3 error objects ({ err, description }). Served only with ssf.enabled.
import { Hono, type Context } from 'hono';
import type { Deps } from '../deps.ts';
import { OAuthError } from '../oauth/errors.ts';
import { transmitterMetadata } from '../ssf/metadata.ts';
import { pollInput, pollStream } from '../ssf/poll.ts';
import { changeStream, configurationOf, createStream, deleteStream, ownStream, receiverStreams, requestVerification, setStatus, ssfPaths, statusOf } from '../ssf/streams.ts';
import type { Transmitter } from '../ssf/transmitter.ts';
import { methodNotAllowed } from './errors.ts';
import { readJson } from './form.ts';
import { noStoreJson } from './respond.ts';
import { receiverOf, ssfReceiver } from './ssf-auth.ts';
import { jwksPath, ssfMetadataPath } from './paths.ts';

export type SsfRouteOptions = { transmitter?: Transmitter | undefined; isShuttingDown?: () => boolean };

export function ssfRoutes(deps: Deps, options: SsfRouteOptions = {}): Hono {
  const app = new Hono();
  const receiver = ssfReceiver(deps);
  const maxBytes = deps.config.main.http.max_body_bytes;
  const metadata = transmitterMetadata(deps, jwksPath);
  const body = (c: Context) => readJson(c, maxBytes, new OAuthError('invalid_request', 'the body must be a JSON object (application/json)'));
  /** The one stream_id query parameter (SSF 1.0 §8.1.1.2); a repeated one is refused. */
  const streamIdOf = (c: Context): string | undefined => {
    const values = c.req.queries('stream_id') ?? [];
    if (values.length > 1) throw new OAuthError('invalid_request', 'stream_id is repeated');
    return values[0];
  };
  const noContent = (c: Context) => {
    c.header('Cache-Control', 'no-store');
    return c.body(null, 204);
  };

  app.get(ssfMetadataPath, (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(metadata);
  });

  // Configuration (SSF 1.0 §8.1.1): create, read (one or all of the receiver's), update, replace, delete.
  app.post(ssfPaths.configuration, receiver, async (c) => {
    const receiver = receiverOf(c);
    return noStoreJson(c, configurationOf(deps, await createStream(deps, receiver, await body(c))), 201);
  });
  app.get(ssfPaths.configuration, receiver, async (c) => {
    const receiver = receiverOf(c);
    const id = streamIdOf(c);
    if (id !== undefined) return noStoreJson(c, configurationOf(deps, await ownStream(deps, receiver, id)));
    return noStoreJson(c, (await receiverStreams(deps, receiver)).map((s) => configurationOf(deps, s)));
  });
  app.patch(ssfPaths.configuration, receiver, async (c) => {
    const receiver = receiverOf(c);
    return noStoreJson(c, configurationOf(deps, await changeStream(deps, receiver, await body(c), false)));
  });
  app.put(ssfPaths.configuration, receiver, async (c) => {
    const receiver = receiverOf(c);
    return noStoreJson(c, configurationOf(deps, await changeStream(deps, receiver, await body(c), true)));
  });
  app.delete(ssfPaths.configuration, receiver, async (c) => {
    const receiver = receiverOf(c);
    await deleteStream(deps, receiver, streamIdOf(c));
    return noContent(c);
  });

  // Status (SSF 1.0 §8.1.2).
  app.get(ssfPaths.status, receiver, async (c) => {
    const receiver = receiverOf(c);
    return noStoreJson(c, statusOf(await ownStream(deps, receiver, streamIdOf(c))));
  });
  app.post(ssfPaths.status, receiver, async (c) => {
    const receiver = receiverOf(c);
    const stream = await setStatus(deps, receiver, await body(c));
    // Enabled again: what was held goes out now.
    if (stream.status === 'enabled') options.transmitter?.nudge();
    return noStoreJson(c, statusOf(stream));
  });

  // Verification (SSF 1.0 §8.1.4): 204 now, the SET follows on the stream.
  app.post(ssfPaths.verification, receiver, async (c) => {
    const receiver = receiverOf(c);
    await requestVerification(deps, receiver, await body(c));
    options.transmitter?.nudge();
    return noContent(c);
  });

  // Poll delivery (RFC 8936 §2.4), one URL per stream.
  app.post(`${ssfPaths.poll}/:id`, receiver, async (c) => {
    const receiver = receiverOf(c);
    const stream = await ownStream(deps, receiver, c.req.param('id'));
    if (stream.delivery.method !== 'poll') throw new OAuthError('not_found', 'no such stream');
    const parsed = pollInput.safeParse(await readJson(c, maxBytes, new OAuthError('invalid_request', 'the body must be a JSON object (application/json)')).catch(() => undefined));
    if (!parsed.success) {
      c.header('Cache-Control', 'no-store');
      return c.json({ err: 'invalid_request', description: 'the poll request is not an RFC 8936 poll object' }, 400);
    }
    const signal = c.req.raw.signal;
    const wait = async (ms: number) => {
      if (options.isShuttingDown?.() || signal.aborted) return false;
      return options.transmitter ? options.transmitter.wait(ms, signal) : new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ms));
    };
    return noStoreJson(c, await pollStream(deps, stream, parsed.data, wait));
  });

  app.all(ssfMetadataPath, methodNotAllowed('GET'));
  app.all(ssfPaths.configuration, methodNotAllowed('GET, POST, PUT, PATCH, DELETE'));
  app.all(ssfPaths.status, methodNotAllowed('GET, POST'));
  app.all(ssfPaths.verification, methodNotAllowed('POST'));
  app.all(`${ssfPaths.poll}/:id`, methodNotAllowed('POST'));
  return app;
}
