/** A minimal Dockerfile reader: enough to lint stages, users and copies without Docker. */

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string;
  /** The image or stage it starts from, with ARG defaults substituted. */
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

/** Instructions in order: comments dropped, `\` continuations joined. */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    if (line.startsWith('#')) return; // comment lines inside a continuation
    pending += ` ${line.endsWith('\\') ? line.slice(0, -1) : line}`;
    if (line.endsWith('\\')) return;
    const joined = pending.trim();
    const space = joined.search(/\s/);
    out.push({ keyword: joined.slice(0, space).toUpperCase(), args: joined.slice(space + 1).trim(), line: start });
    pending = '';
  });
  return out;
}

/** Stages in order; ARGs declared before the first FROM are substituted into FROM lines. */
export function stages(text: string): Stage[] {
  const globalArgs = new Map<string, string>();
  const result: { name: string; from: string; instructions: Instruction[] }[] = [];
  for (const ins of instructions(text)) {
    if (ins.keyword === 'ARG' && result.length === 0) {
      const [name, value] = ins.args.split('=', 2);
      globalArgs.set(String(name), value ?? '');
    } else if (ins.keyword === 'FROM') {
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const image = String(parts[0]).replace(/\$\{?(\w+)\}?/g, (_m, name: string) => globalArgs.get(name) ?? '');
      const as = parts.findIndex((p) => p.toUpperCase() === 'AS');
      result.push({ name: as >= 0 ? String(parts[as + 1]) : String(result.length), from: image, instructions: [] });
    } else {
      result[result.length - 1]?.instructions.push(ins);
    }
  }
  return result;
}

/** The stage and the stages it is built FROM, nearest first. */
export function ancestry(all: readonly Stage[], stage: Stage): Stage[] {
  const chain: Stage[] = [stage];
  let parent = all.find((s) => s.name === stage.from);
  while (parent !== undefined && !chain.includes(parent)) {
    chain.push(parent);
    const from = parent.from;
    parent = all.find((s) => s.name === from);
  }
  return chain;
}

export interface Copy {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

export function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const parts = i.args.split(/\s+/);
      const flags = parts.filter((p) => p.startsWith('--'));
      const paths = parts.filter((p) => !p.startsWith('--'));
      const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      return { from, sources: paths.slice(0, -1), destination: String(paths[paths.length - 1]) };
    });
}

/** Exec-form JSON array arguments (ENTRYPOINT ["node", …]); undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a build-context path is excluded by .dockerignore (plain names, dir prefixes, `*` globs). */
export function isIgnored(patterns: readonly string[], file: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}(/.*)?$`);
    if (regex.test(file)) ignored = !negate;
  }
  return ignored;
}

export function dockerignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
