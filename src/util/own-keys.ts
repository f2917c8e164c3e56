/**
 * Whether an object has an own enumerable key, without listing them: `Object.keys(x).length > 0`
 * builds an array of every key, and these tests run several times per Check.
 */
export function hasOwnKeys(value: object): boolean {
  for (const key in value) if (Object.hasOwn(value, key)) return true;
  return false;
}
