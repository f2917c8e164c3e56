/**
 * The strings without repeats, in first-seen order. The usual lists here are a name or two (a
 * request's model, a key's access group), and they run on every Check: a list without repeats
 * comes back as it is, with no Set or copy made for it.
 */
const SCAN_LIMIT = 16;

export function distinct(values: readonly string[]): readonly string[] {
  if (values.length < 2) return values;
  if (values.length <= SCAN_LIMIT && !hasRepeats(values)) return values;
  return [...new Set(values)];
}

function hasRepeats(values: readonly string[]): boolean {
  for (let i = 1; i < values.length; i += 1) {
    for (let j = 0; j < i; j += 1) if (values[j] === values[i]) return true;
  }
  return false;
}
