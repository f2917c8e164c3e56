/**
 * A YAML node as the Python value PyYAML's `safe_load` builds from it, for the few places where
 * LiteLLM prints or hashes config values (checks/deployment-id.ts): its int/float/str types,
 * its dict order, merge keys resolved as PyYAML's `flatten_mapping` does. The `yaml` library's
 * JavaScript values lose these (`1.0` and `1` are one number; `1e-5` is a number where PyYAML
 * keeps the string, as its float pattern wants a dot and a signed exponent).
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode, type Pair } from 'yaml';
import type { PyValue } from '../checks/deployment-id';

// PyYAML's implicit resolvers (resolver.py), matched against a plain scalar's whole text.
const PY_BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FLOAT = /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const PY_INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const PY_NULL = /^(?:~|null|Null|NULL|)$/;
const PY_TIMESTAMP = /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/;

const STR_TAG = 'tag:yaml.org,2002:str';
const SEQ_TAG = 'tag:yaml.org,2002:seq';
const MAP_TAG = 'tag:yaml.org,2002:map';
const NON_SPECIFIC_TAG = '!';

/** `SafeConstructor.construct_yaml_int`; null for the sexagesimal form (`1:30`), not reproduced. */
function pythonInt(text: string): PyValue | null {
  let value = text.replace(/_/g, '');
  let sign = 1n;
  if (value.startsWith('-') || value.startsWith('+')) {
    if (value.startsWith('-')) sign = -1n;
    value = value.slice(1);
  }
  if (value.includes(':')) return null;
  if (value === '0') return { kind: 'int', value: 0n };
  // `0b_` and `0x_` match the resolver but leave no digits: int() raises, and so would BigInt().
  if (value === '0b' || value === '0x') return null;
  if (value.startsWith('0b')) return { kind: 'int', value: sign * BigInt(`0b${value.slice(2)}`) };
  if (value.startsWith('0x')) return { kind: 'int', value: sign * BigInt(`0x${value.slice(2)}`) };
  if (value.startsWith('0')) return { kind: 'int', value: sign * BigInt(`0o${value.slice(1)}`) };
  return { kind: 'int', value: sign * BigInt(value) };
}

/** `SafeConstructor.construct_yaml_float`; null for the sexagesimal form, not reproduced. */
function pythonFloat(text: string): PyValue | null {
  let value = text.replace(/_/g, '').toLowerCase();
  let sign = 1;
  if (value.startsWith('-') || value.startsWith('+')) {
    if (value.startsWith('-')) sign = -1;
    value = value.slice(1);
  }
  if (value === '.inf') return { kind: 'float', value: sign * Infinity };
  if (value === '.nan') return { kind: 'float', value: NaN };
  if (value.includes(':')) return null;
  // float() rounds the decimal text correctly, as Number() does; what neither reads is no float.
  const parsed = Number(value);
  return Number.isNaN(parsed) ? null : { kind: 'float', value: sign * parsed };
}

function scalarValue(node: YamlNode): PyValue | null {
  if (!isScalar(node)) return null;
  const text = typeof node.source === 'string' ? node.source : null;
  if (text === null) return null;
  // PyYAML resolves a scalar tagged `!` (the non-specific tag) as a plain one, quoted or not: `! "5"` is 5.
  const nonSpecific = node.tag === NON_SPECIFIC_TAG;
  if (node.tag !== undefined && !nonSpecific) return node.tag === STR_TAG ? { kind: 'str', value: text } : null;
  if (node.type !== 'PLAIN' && !nonSpecific) return { kind: 'str', value: text };
  if (PY_BOOL.test(text)) return { kind: 'bool', value: PY_TRUE.test(text) };
  if (PY_FLOAT.test(text)) return pythonFloat(text);
  if (PY_INT.test(text)) return pythonInt(text);
  if (PY_NULL.test(text)) return { kind: 'none' };
  // A date or time (datetime objects), `=` (a value tag safe_load cannot build), `<<` outside a key.
  if (PY_TIMESTAMP.test(text) || text === '=' || text === '<<') return null;
  return { kind: 'str', value: text };
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && key.type === 'PLAIN' && key.tag === undefined && key.source === '<<';
}

function deref(node: unknown, doc: Document): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/**
 * A mapping's pairs in PyYAML's `flatten_mapping` order: the merged pairs first (of a merged
 * list, the last mapping's first), then the mapping's own; a later pair's value wins, the key
 * keeps its first place (a Python dict).
 */
function flattenedPairs(node: unknown, doc: Document, depth: number): Pair[] | null {
  if (!isMap(node) || depth > 64) return null;
  const merged: Pair[] = [];
  const own: Pair[] = [];
  for (const pair of node.items) {
    if (!isMergeKey(pair.key)) {
      own.push(pair);
      continue;
    }
    const value = deref(pair.value, doc);
    const sources = isSeq(value) ? [...value.items].reverse() : [value];
    for (const source of sources) {
      const pairs = flattenedPairs(deref(source, doc), doc, depth + 1);
      if (pairs === null) return null;
      merged.push(...pairs);
    }
  }
  return [...merged, ...own];
}

function sameKey(a: PyValue, b: PyValue): boolean {
  // Python dict keys: 1 == 1.0 == True; only the hashable scalars reach here.
  if (a.kind === 'str' || b.kind === 'str') return a.kind === 'str' && b.kind === 'str' && a.value === b.value;
  if (a.kind === 'none' || b.kind === 'none') return a.kind === b.kind;
  const num = (v: PyValue): number | null =>
    v.kind === 'int' ? Number(v.value) : v.kind === 'float' ? v.value : v.kind === 'bool' ? (v.value ? 1 : 0) : null;
  const [x, y] = [num(a), num(b)];
  return x !== null && y !== null && x === y;
}

/** The node as PyYAML's `safe_load` value; null for what is not reproduced here (see scalarValue). */
export function pythonValueOf(node: unknown, doc: Document, depth = 0): PyValue | null {
  if (depth > 64) return null;
  const target = deref(node, doc);
  if (target === null || target === undefined) return { kind: 'none' };
  // `!!set`, `!!omap`, `!!pairs` build a set or a list of tuples, whose str() is not a list's or dict's.
  const tag = isSeq(target) || isMap(target) ? target.tag : undefined;
  if (tag !== undefined && tag !== NON_SPECIFIC_TAG && tag !== (isSeq(target) ? SEQ_TAG : MAP_TAG)) return null;
  if (isSeq(target)) {
    const items: PyValue[] = [];
    for (const item of target.items) {
      const value = pythonValueOf(item, doc, depth + 1);
      if (value === null) return null;
      items.push(value);
    }
    return { kind: 'list', items };
  }
  if (isMap(target)) {
    const pairs = flattenedPairs(target, doc, depth);
    if (pairs === null) return null;
    const entries: [PyValue, PyValue][] = [];
    for (const pair of pairs) {
      const key = pythonValueOf(pair.key, doc, depth + 1);
      const value = pythonValueOf(pair.value, doc, depth + 1);
      if (key === null || value === null || key.kind === 'list' || key.kind === 'dict') return null;
      const at = entries.findIndex(([k]) => sameKey(k, key));
      if (at === -1) entries.push([key, value]);
      else entries[at] = [entries[at]?.[0] ?? key, value];
    }
    return { kind: 'dict', entries };
  }
  return scalarValue(target as YamlNode);
}
