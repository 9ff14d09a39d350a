// Zod schema of `metrics:` in consulate.yaml: the Prometheus endpoint and the status document.
import { z } from 'zod';

/** host:port, the host a name or an address ([…] around IPv6), the port 0–65535 (0: any free port). */
const hostPort = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464 or [::1]:9464')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65535, 'the port must be at most 65535');

export const metricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve Prometheus metrics at GET /metrics (a reload applies a change). /status is served either way.'),
    listen: hostPort
      .optional()
      .describe('host:port of a separate listener for /metrics and /status (e.g. 127.0.0.1:9464, or port 0 for any free port); the main listener then answers 404 for both. Absent: both are served on the main listener. Read at start.'),
    token: z
      .string()
      .min(16)
      .optional()
      .describe('Bearer token that /metrics and /status require (Authorization: Bearer <token>, compared in constant time); use a ${env:NAME} reference. Overridden by CONSULATE_METRICS_TOKEN. Absent: they answer whoever reaches the listener.'),
  })
  .prefault({})
  .describe('Prometheus metrics (GET /metrics) and the status document (GET /status): docs/operators/metrics.md.');
