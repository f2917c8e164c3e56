/**
 * Secrets must never leave the process except where they came from: not in logs, not in a
 * CheckResponse. These helpers collect what a test sent and look for it in what came back.
 */
import type { CheckResponse } from '../../src/envoy/messages';

/** Everything a CheckResponse carries, as text (bytes decoded, metadata included). */
export function responseText(response: CheckResponse): string {
  // Buffer.toJSON runs before a replacer sees the value: decode its { type, data } form.
  return JSON.stringify(response, (_key, value: unknown) => {
    const buffer = value as { type?: unknown; data?: unknown } | null;
    return buffer !== null && typeof buffer === 'object' && buffer.type === 'Buffer' && Array.isArray(buffer.data)
      ? Buffer.from(buffer.data as number[]).toString('utf8')
      : value;
  });
}

/** The secrets (at least `minLength` long, to avoid coincidental matches) that occur in `text`. */
export function leakedSecrets(text: string, secrets: Iterable<string>, minLength = 12): string[] {
  const found: string[] = [];
  for (const secret of secrets) if (secret.length >= minLength && text.includes(secret)) found.push(secret);
  return found;
}
