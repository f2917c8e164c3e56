/**
 * `tollgate.alerting`: where budget alerts go (src/alerts/). Every alert is logged; with
 * `webhook_url` it is also POSTed as JSON. `dedupe_seconds` is the window in which one entity's
 * alert of one type is sent once (LiteLLM alerts budget crossings once, not on every request).
 */
import { z } from 'zod';

const alertingSchema = z.looseObject({
  webhook_url: z.url({ protocol: /^https?$/ }).nullish(),
  dedupe_seconds: z.number().nonnegative().optional(),
  timeout_ms: z.number().int().positive().optional(),
  queue_size: z.number().int().positive().optional(),
});

/** Spread into the `tollgate:` schema. */
export const alertingConfigShape = { alerting: alertingSchema.nullish() };

export interface AlertingSettings {
  readonly webhookUrl: string | null;
  readonly dedupeSeconds: number;
  readonly timeoutMs: number;
  readonly queueSize: number;
}

export function alertingSettingsFrom(tollgate: { readonly alerting?: z.infer<typeof alertingSchema> | null }): AlertingSettings {
  const alerting = tollgate.alerting ?? {};
  return {
    webhookUrl: alerting.webhook_url ?? null,
    dedupeSeconds: alerting.dedupe_seconds ?? 3600,
    timeoutMs: alerting.timeout_ms ?? 5000,
    queueSize: alerting.queue_size ?? 1000,
  };
}
