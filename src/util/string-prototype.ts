/**
 * Keeps V8's fast paths for string methods in a process that loads node-redis.
 *
 * node-redis declares `class VerbatimString extends String`. Making String.prototype the prototype
 * of another object switches it to V8's dictionary mode, and while it stays there every string
 * method call in the process (charCodeAt, slice, startsWith, includes, toLowerCase, …) takes a slow
 * path: 2–6× slower per call on Node 20, which made encoding a Check's answer cost ~5 µs instead
 * of ~2 µs. V8 makes a prototype fast again when a property is stored on an object inheriting from
 * it, and node-redis only does that when a server sends a verbatim string (RESP3, which Tollgate
 * does not use). One such store, right after node-redis is loaded (redis-shared-cache.ts), restores
 * the fast paths.
 */
export function restoreFastStringMethods(): void {
  // A String object, not a primitive: it is what inherits from String.prototype.
  const probe = new String('') as string & { fast?: boolean };
  probe.fast = true;
}
