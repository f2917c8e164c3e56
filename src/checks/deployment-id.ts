/**
 * The id LiteLLM's Router gives a deployment whose config states no `model_info.id`
 * (`Router._generate_model_id`): the sha256 hex of the model group followed by each
 * `litellm_params` key and value, a string as it is, a dict as `json.dumps` writes it, anything
 * else as Python's `str()` prints it. Values are Python's, so they are held as such here: a YAML
 * `1.0` is a float that prints `1.0`, which a JavaScript number cannot tell from the int `1`.
 */
import { createHash } from 'node:crypto';
import { pyFloat, pyRepr } from './python-format';

/** A value as PyYAML's `safe_load` builds it; dict entries in insertion order. */
export type PyValue =
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'none' }
  | { readonly kind: 'list'; readonly items: readonly PyValue[] }
  | { readonly kind: 'dict'; readonly entries: readonly (readonly [PyValue, PyValue])[] };

function hex4(code: number): string {
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

const JSON_ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** `json.dumps` of a str with `ensure_ascii=True`: everything outside space..`~` escaped, astral characters as surrogate pairs. */
function jsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] ?? '';
    const code = text.charCodeAt(i);
    out += JSON_ESCAPES[ch] ?? (code < 0x20 || code > 0x7e ? hex4(code) : ch);
  }
  return `${out}"`;
}

function jsonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  return pyFloat(value);
}

type PyScalar = Exclude<PyValue, { readonly kind: 'list' | 'dict' }>;

/**
 * How one of Python's printers writes a scalar and a dict key. `json.dumps` and `repr` differ only
 * there: both write a list as `[a, b]` and a dict as `{k: v}` (print).
 */
interface PythonPrinter {
  scalar(value: PyScalar): string | null;
  key(key: PyValue): string | null;
}

function print(value: PyValue, printer: PythonPrinter): string | null {
  if (value.kind === 'list') {
    const items = value.items.map((item) => print(item, printer));
    return items.some((item) => item === null) ? null : `[${items.join(', ')}]`;
  }
  if (value.kind === 'dict') {
    const parts: string[] = [];
    for (const [k, v] of value.entries) {
      const key = printer.key(k);
      const printed = print(v, printer);
      if (key === null || printed === null) return null;
      parts.push(`${key}: ${printed}`);
    }
    return `{${parts.join(', ')}}`;
  }
  return printer.scalar(value);
}

const JSON_DUMPS: PythonPrinter = {
  scalar(value) {
    switch (value.kind) {
      case 'str':
        return jsonString(value.value);
      case 'int':
        return value.value.toString();
      case 'float':
        return jsonFloat(value.value);
      case 'bool':
        return value.value ? 'true' : 'false';
      case 'none':
        return 'null';
    }
  },
  // json.dumps turns a scalar key into a string (True → "true", 1.5 → "1.5") and refuses a list or dict.
  key(key) {
    if (key.kind === 'list' || key.kind === 'dict') return null;
    const text = key.kind === 'str' ? key.value : JSON_DUMPS.scalar(key);
    return text === null ? null : jsonString(text);
  },
};

/**
 * `repr(str)` for ASCII text; null for text with other characters, whose repr depends on
 * Python's `str.isprintable` table, which is not reproduced here.
 */
function pythonStrRepr(text: string): string | null {
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) > 0x7f) return null;
  return pyRepr(text);
}

const REPR: PythonPrinter = {
  scalar(value) {
    switch (value.kind) {
      case 'str':
        return pythonStrRepr(value.value);
      case 'int':
        return value.value.toString();
      case 'float':
        return pyFloat(value.value);
      case 'bool':
        return value.value ? 'True' : 'False';
      case 'none':
        return 'None';
    }
  },
  key: (key) => print(key, REPR),
};

/** `json.dumps(value)` with its default separators (`", "`, `": "`); null where Python would raise. */
export function pythonJsonDumps(value: PyValue): string | null {
  return print(value, JSON_DUMPS);
}

/** Python's `repr(value)`; null where it is not reproduced (see pythonStrRepr). */
export function pythonRepr(value: PyValue): string | null {
  return print(value, REPR);
}

/** One key or value as `_generate_model_id` appends it: a str as is, a dict through json.dumps, anything else through str(). */
function idPart(value: PyValue): string | null {
  if (value.kind === 'str') return value.value;
  if (value.kind === 'dict') return pythonJsonDumps(value);
  return pythonRepr(value);
}

const ENV_REFERENCE = 'os.environ/';

/** A UTF-16 surrogate with no partner: a YAML `"\\ud800"` escape gives one, which Python's `str.encode()` refuses. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether an `os.environ/` string sits anywhere in the value: the proxy swaps those for secrets before the id is made. */
function holdsEnvReference(value: PyValue): boolean {
  if (value.kind === 'str') return value.value.startsWith(ENV_REFERENCE);
  if (value.kind === 'list') return value.items.some(holdsEnvReference);
  if (value.kind === 'dict') return value.entries.some(([k, v]) => holdsEnvReference(k) || holdsEnvReference(v));
  return false;
}

/**
 * `Router._generate_model_id(model_group, litellm_params)` for a deployment of the config, or null
 * when Tollgate cannot know the id LiteLLM computes:
 * - a value (or model_name) the proxy resolves before hashing: `os.environ/…` anywhere in it
 *   (`ProxyConfig._check_for_os_environ_vars` rewrites every nested one through `get_secret`, whose
 *   value Tollgate does not see);
 * - a `litellm_params` key that is not a string (LiteLLM then refuses the deployment anyway);
 * - a list holding non-ASCII text (its `str()` follows Python's printable-character table);
 * - a lone surrogate in the hashed text (`concat_str.encode()` raises: LiteLLM does not start).
 */
export function generatedDeploymentId(modelGroup: string, litellmParams: PyValue): string | null {
  if (litellmParams.kind !== 'dict' || modelGroup.startsWith(ENV_REFERENCE) || holdsEnvReference(litellmParams)) return null;
  const parts = [modelGroup];
  for (const [key, value] of litellmParams.entries) {
    if (key.kind !== 'str') return null;
    const part = idPart(value);
    if (part === null) return null;
    parts.push(key.value, part);
  }
  const text = parts.join('');
  if (LONE_SURROGATE.test(text)) return null;
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
