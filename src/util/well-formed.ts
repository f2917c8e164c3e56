/**
 * Text that can be stored as UTF-8. A JSON body may escape half of a surrogate pair
 * (`"\udc00"`); JavaScript keeps it, but MySQL and MariaDB refuse it in a JSON or utf8mb4 column,
 * and one such row would fail its whole batch. Each lone half becomes U+FFFD, as
 * `String.prototype.toWellFormed` (ES2024) does.
 */
const HAS_LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(HAS_LONE_SURROGATE.source, 'g');

/** Whether `text` has no lone surrogate half (`String.prototype.isWellFormed`, ES2024). */
export function isWellFormed(text: string): boolean {
  return !HAS_LONE_SURROGATE.test(text);
}

export function wellFormed(text: string): string {
  return HAS_LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATES, '\uFFFD') : text;
}

/** `JSON.stringify` with every string value made well-formed (JSON.stringify would escape a lone half as `\udc00`). */
export function wellFormedJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? wellFormed(item) : item));
}
