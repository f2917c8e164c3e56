/**
 * Bytes kept for long (cached encodings) need memory of their own. A small `Buffer.from` or
 * `Buffer.allocUnsafe` is a slice of Node's shared 8 KB pool, and one slice kept alive keeps its
 * whole slab: a thousand cached identities held ~3.7 MB of slabs for a few KB of bytes
 * (docs/performance.md, "The heap under load").
 */
export function ownedCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  copy.set(bytes);
  return copy;
}
