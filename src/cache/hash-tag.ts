/**
 * Redis Cluster's hash tags and slots, kept apart from the client so that settings can check a key
 * prefix without loading node-redis.
 */
const CLUSTER_SLOTS = 16384;

/** Redis's hash tag: what lies between the first `{` and the first `}` after it, when not empty. */
export function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

/** The cluster slot of a key: CRC16 (XMODEM) of its hash tag, or of the whole key without one. */
export function keySlot(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(hashTagOf(key) ?? key, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % CLUSTER_SLOTS;
}
