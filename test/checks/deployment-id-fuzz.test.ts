import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy } from '../../src/config/policy';

/**
 * Configs drawn at random (from a fixed seed) out of YAML spellings where PyYAML and JavaScript
 * part ways (YAML 1.1 ints and floats, booleans, nulls, escapes, block text, tags, anchors, merge
 * keys, non-string keys, nesting), each compared with the ids Python makes from the same text
 * (deployment-id-reference.py --many: PyYAML safe_load, then LiteLLM's Router). Tollgate may leave
 * an entry without an id only where it says it cannot know it; it must never refuse a config
 * PyYAML reads, nor give an id Python would not.
 */

const REFERENCE = join(__dirname, 'deployment-id-reference.py');

/** How a scalar spelling fares: printed by Tollgate as Python does, or left without an id by design. */
type Fate = 'known' | 'unknown';

interface Spelling {
  readonly yaml: string;
  readonly fate: Fate;
  /** Text outside ASCII: Tollgate prints it inside a list (str(), Python's printable table) only as unknown. */
  readonly nonAscii?: boolean;
}

const known = (yaml: string): Spelling => ({ yaml, fate: 'known' });

const SCALARS: readonly Spelling[] = [
  // ints: YAML 1.1 octal, hex, binary, underscores, signs, past 2^64
  ...['0', '1', '-1', '+1', '007', '010', '-010', '0x10', '0xFF', '-0x1f', '+0x_1', '0b101', '-0b1_1', '1_000', '0_0', '123456789012345678901234567890', '-9007199254740993'].map(known),
  // strings to PyYAML though they look like numbers
  ...['0o7', '09', '1e-05', '1e16', '1.0e16', '-.5', '+.5', '0x', '0b', '1_', '._1_', '1.5.0', 'e5', '0x1G'].map(known),
  // floats: every form of PyYAML's resolver, printed by repr's shortest-digits rule
  ...['1.0', '1.', '.5', '0.1', '1.0e-05', '1.0e+20', '1.0e+16', '10000000000000000.0', '9999999999999998.0', '1_000.5', '3.141592653589793', '1.7976931348623157e+308', '4.9e-324', '2.5e-10', '0.0001', '0.00001', '-0.0', '+1.5', '.inf', '-.inf', '+.INF', '.Inf', '.nan', '.NaN', '1.5e+500'].map(known),
  // booleans and nulls in YAML 1.1 spellings, and their look-alikes that stay strings
  ...['yes', 'Yes', 'NO', 'on', 'OFF', 'true', 'False', 'TRUE', 'y', 'n', 'Y', 'yEs', '~', 'null', 'Null', 'NULL', '', 'nil', 'None'].map(known),
  // quoted and escaped text
  ...['"quoted"', "'single'", "'it''s'", '"a\'b"', '"a\'b\\"c"', '"tab\\there"', '"nl\\nand\\rcr"', '"\\x7f\\x01\\0"', '"back\\\\slash"', '"\\a\\b\\e\\f\\v"', '"\\/"', '" lead and trail "', "'#not a comment'", '"{not: a dict}"', '"[not, a, list]"', '!!str 123', '!!str yes', '!!str ~', '! 5', '! "yes"', "! '0x10'", '! ~', '"100"', "'1.0'"].map(known),
  { yaml: '"caf\\u00e9"', fate: 'known', nonAscii: true },
  { yaml: '"😀 \\U0001F600"', fate: 'known', nonAscii: true },
  { yaml: '"\\N\\_\\L\\P"', fate: 'known', nonAscii: true },
  { yaml: 'naïve', fate: 'known', nonAscii: true },
  // values Tollgate does not reproduce: sexagesimal numbers, dates, explicit non-str tags, secrets
  ...['1:30', '-1:30', '1:30.5', '2024-01-01', '2024-01-01 10:00:00', '2024-01-01T10:00:00Z', '!!int 5', '!!float 1', '!!bool yes', '!!null ""', '!!set {x}', '!!omap [x: 1]', '&loop [1, *loop]', 'os.environ/FUZZ_SECRET', '"os.environ/FUZZ_UNSET"'].map(
    (yaml): Spelling => ({ yaml, fate: 'unknown' }),
  ),
];

/** Mapping keys, each distinct as a JavaScript value too (the `yaml` library refuses repeated keys). */
const KEYS: readonly string[] = ['api_base', 'timeout', 'k', '"quoted key"', "'x y'", '1', '2.5', 'true', '~', '0x2', '-3', '"1"', 'no', '"é"', 'key with spaces', '!!str 7'];

const STATED_IDS: readonly string[] = ['my-id', '"quoted id"', '5', '-7', '0x10', '010', '1_000', '12345678901234567890', 'yes', 'False', '~', '!!str 5', "'5'"];

class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: a small, fixed-seed generator, so a failure reruns as it failed. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

/** Where a value is printed: as a top-level string, by json.dumps (a dict), or by repr (a list, a scalar). */
type Printer = 'raw' | 'json' | 'repr';

interface Entry {
  readonly yaml: string;
  /** Whether Tollgate may leave this entry without an id. */
  readonly mayBeUnknown: boolean;
}

const ANCHORS = `anchors:
  - &base {api_base: "https://example.test/v1", timeout: 30, rpm: 10}
  - &extra {timeout: 60.0, stream: yes, tags: [a, 1.5]}
  - &text "shared text"
  - &numbers [1, 2.0, .5, 0x10]
`;

function buildEntry(random: Random, index: number): Entry {
  let mayBeUnknown = false;
  const scalar = (printer: Printer): string => {
    const spelling = random.pick(SCALARS);
    if (spelling.fate === 'unknown' || (spelling.nonAscii === true && printer === 'repr')) mayBeUnknown = true;
    return spelling.yaml;
  };
  const flowValue = (printer: Printer, depth: number): string => {
    const roll = random.below(10);
    if (depth < 3 && roll === 0) return `[${Array.from({ length: random.below(4) }, () => flowValue('repr', depth + 1)).join(', ')}]`;
    if (depth < 3 && roll === 1) {
      const keys = [...new Set(Array.from({ length: random.below(4) }, () => random.pick(KEYS)))];
      if (printer === 'repr' && keys.some((key) => [...key].some((ch) => ch.charCodeAt(0) > 0x7f))) mayBeUnknown = true;
      return `{${keys.map((key) => `${key}: ${flowValue(printer === 'repr' ? 'repr' : 'json', depth + 1)}`).join(', ')}}`;
    }
    if (roll === 2) return random.pick(['*text', '*numbers']);
    return scalar(printer);
  };
  const lines = [`  - model_name: "group-${index}"`, '    litellm_params:'];
  const merge = random.below(4);
  if (merge === 1) lines.push('      <<: *base');
  if (merge === 2) lines.push('      <<: [*extra, *base]');
  lines.push(`      model: ${random.pick(['openai/gpt-4o', '"azure/gpt-4o"', 'bedrock/claude'])}`);
  const used = new Set<string>();
  for (let n = random.below(5); n > 0; n -= 1) {
    const key = random.pick(['timeout', 'rpm', 'p1', 'p2', 'p3', 'extra_body', 'tags', 'stream', 'api_base', 'api_version']);
    if (used.has(key)) continue;
    used.add(key);
    const roll = random.below(8);
    if (roll === 0) {
      lines.push(`      ${key}: |`, '        line one', '          indented', '        line three');
    } else if (roll === 1) {
      lines.push(`      ${key}:`, `        - ${flowValue('repr', 1)}`, `        - ${flowValue('repr', 1)}`);
    } else if (roll === 2) {
      lines.push(`      ${key}:`, `        <<: *base`, `        k: ${flowValue('json', 1)}`);
    } else {
      const value = flowValue('raw', 0);
      lines.push(`      ${key}: ${value}`);
    }
  }
  const info = random.below(8);
  if (info === 0) lines.push('    model_info: {mode: chat}');
  // A stated id: ModelInfo keeps a str, str()s an int (a bool is one), makes a random uuid4 for None.
  if (info === 1) lines.push(`    model_info: {id: ${random.pick(STATED_IDS)}}`);
  return { yaml: lines.join('\n'), mayBeUnknown };
}

function buildConfig(random: Random, configIndex: number): { readonly yaml: string; readonly entries: readonly Entry[] } {
  const entries = Array.from({ length: 1 + random.below(4) }, (_, i) => buildEntry(random, configIndex * 10 + i));
  return { yaml: `${ANCHORS}model_list:\n${entries.map((e) => e.yaml).join('\n')}\n`, entries };
}

type PythonResult = { readonly load_error: string } | readonly (string | null | { readonly error: string })[];

describe('deployment ids over random YAML, against PyYAML and LiteLLM run by Python', function () {
  const env = { FUZZ_SECRET: 'sk-fuzz' };
  const random = new Random(20261129);
  const configs = Array.from({ length: 400 }, (_, i) => buildConfig(random, i));

  it('loads every config PyYAML loads, and gives each deployment the id Python does or, where it says it cannot know, none', function () {
    const run = spawnSync('python3', [REFERENCE, '--many'], {
      input: JSON.stringify(configs.map((c) => c.yaml)),
      encoding: 'utf8',
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.error !== undefined || run.status !== 0) this.skip();
    const expected = JSON.parse(run.stdout) as PythonResult[];
    let compared = 0;
    configs.forEach((config, c) => {
      const python = expected[c];
      if (python === undefined || !Array.isArray(python)) return;
      const ids = buildPolicy(parseLiteLlmConfig(config.yaml, env)).modelList.map((d) => d.modelId ?? null);
      expect(ids, config.yaml).to.have.length(python.length);
      python.forEach((want, e) => {
        const ours = ids[e];
        const entry = config.entries[e];
        const where = `entry ${e} of\n${config.yaml}`;
        if (want !== null && typeof want === 'object') {
          expect(ours, `Python cannot make this id: ${want.error}\n${where}`).to.equal(null);
        } else if (ours === null && want !== null) {
          expect(entry?.mayBeUnknown, `no id, where Python makes ${String(want)}\n${where}`).to.equal(true);
        } else {
          expect(ours, where).to.equal(want);
          compared += 1;
        }
      });
    });
    // Most entries must be compared, or the table above has stopped exercising anything.
    expect(compared).to.be.greaterThan(400);
  });
});
