/**
 * YAML read the way LiteLLM reads its config (PyYAML's `safe_load`, YAML 1.1): `<<` merge keys,
 * `yes`/`no`/`on`/`off` booleans, `0`-prefixed octal. Read as YAML 1.2 instead, a `<<: *defaults`
 * block would be a key named `<<` and the settings it brings in silently absent, and a pass-through
 * endpoint's `auth: yes` a string. The `yaml` library's 1.1 schema also takes `y` and `n` for
 * booleans, which PyYAML keeps as strings; those two tags are PyYAML's here.
 */
import { Scalar, parseDocument, type Document, type ScalarTag, type Tags } from 'yaml';

const BOOL_TAG = 'tag:yaml.org,2002:bool';

/** PyYAML's `Resolver` pattern for booleans. */
const PY_TRUE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const PY_FALSE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;

function pythonBool(value: boolean, test: RegExp): ScalarTag {
  return {
    identify: (v) => v === value,
    default: true,
    tag: BOOL_TAG,
    test,
    resolve: () => new Scalar(value),
  };
}

function withPythonBooleans(tags: Tags): Tags {
  const others = tags.filter((tag) => typeof tag === 'string' || tag.tag !== BOOL_TAG);
  return [pythonBool(true, PY_TRUE), pythonBool(false, PY_FALSE), ...others];
}

export function parsePythonYaml(text: string): Document.Parsed {
  return parseDocument(text, { version: '1.1', merge: true, customTags: withPythonBooleans });
}

/**
 * A parse error without its text: the `yaml` library quotes the offending line, and a config's
 * lines hold secrets (`master_key: sk-…`), which must not reach logs.
 */
export function describeYamlError(error: { code: string; linePos?: [{ line: number; col: number }] | [{ line: number; col: number }, { line: number; col: number }] }): string {
  const at = error.linePos?.[0];
  const where = at === undefined ? error.code : `${error.code} at line ${at.line}, column ${at.col}`;
  return where + (HINTS[error.code] ?? '');
}

/**
 * Where Tollgate is stricter than PyYAML, the reason. A key written twice in one mapping (two
 * `general_settings:` blocks, say) is kept last-wins by PyYAML without a word, so LiteLLM runs
 * without the first block; refusing makes the lost block visible instead of reading it as LiteLLM does.
 */
const HINTS: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: ' (a key written twice in one mapping: PyYAML would keep only the last, silently dropping the first; remove one)',
};
