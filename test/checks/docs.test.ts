/**
 * docs/checks.md is generated from the ordered check lists: this test renders the page from
 * src/checks/order.ts in memory and fails when the file differs, printing the expected text.
 * `TOLLGATE_WRITE_DOCS=1 npx mocha test/checks/docs.test.ts` rewrites the file instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { COMMON_CHECKS, KEY_CHECKS, PRE_DB_CHECKS, PRE_KEY_CHECKS, ROUTE_PERMISSION_CHECKS, VIRTUAL_KEY_PIPELINE } from '../../src/checks/order';
import { JWT_CHECKS } from '../../src/authorize/jwt-path';
import { MAPPED_KEY_CHECKS } from '../../src/authorize/mapped-key';
import type { Check } from '../../src/checks/types';

const DOC = resolve(__dirname, '../../docs/checks.md');

const PHASES: ReadonlyArray<{ readonly list: string; readonly title: string; readonly checks: readonly Check[] }> = [
  { list: 'PRE_DB_CHECKS', title: 'Before any credential is read (every caller, master key included) — §2.2', checks: PRE_DB_CHECKS },
  { list: 'PRE_KEY_CHECKS', title: 'The end user, before the key is looked up — §2.5', checks: PRE_KEY_CHECKS },
  { list: 'KEY_CHECKS', title: 'The virtual key itself — §2.6, §2.7', checks: KEY_CHECKS },
  { list: 'COMMON_CHECKS', title: '`common_checks` — §4', checks: COMMON_CHECKS },
  { list: 'ROUTE_PERMISSION_CHECKS', title: 'After authentication: the key’s `allowed_routes` — §6.4', checks: ROUTE_PERMISSION_CHECKS },
];

function renderChecksDoc(): string {
  const lines = [
    '# Checks, in order',
    '',
    '<!-- Generated from src/checks/order.ts by test/checks/docs.test.ts: edit the checks, then run',
    '     `TOLLGATE_WRITE_DOCS=1 npx mocha test/checks/docs.test.ts`. -->',
    '',
    'Every virtual-key (`sk-…`) request runs these checks top to bottom, in LiteLLM’s order; the first',
    'refusal is the answer (HTTP status and `error.type` of the `{"error": …}` body). Sections refer to',
    '`litellm-auth.md`; each check module (`src/checks/<name>.ts`) says why it decides as it does, and',
    'where Tollgate deliberately follows newer LiteLLM. The master key stops after the first phase (spec',
    'README §4.6), and the end user\'s budget check that follows it (§2.5; LiteLLM runs it before the',
    'master-key match; an end user that cannot be looked up does not refuse it).',
    '',
    'Soft budgets and the 80 % key budget alert are not checks: they never refuse. They are computed after the',
    'decision (`src/alerts/budget-alerts.ts`) and emitted off the request path as a log line, a span event',
    'and an optional webhook.',
  ];
  let position = 0;
  for (const phase of PHASES) {
    lines.push('', `## ${phase.title}`, '', `\`${phase.list}\``, '', '| # | check | specified in | HTTP | error type |', '|---|---|---|---|---|');
    for (const check of phase.checks) {
      position += 1;
      const statuses = (check.statuses ?? []).join(', ');
      const types = (check.errorTypes ?? []).map((t) => `\`${t}\``).join(', ');
      lines.push(`| ${position} | \`${check.name}\` | ${check.spec} | ${statuses} | ${types} |`);
    }
  }
  lines.push(...otherCallersSection());
  return `${lines.join('\n')}\n`;
}

/** Which of these lists JWT callers and JWTs mapped to a key run (src/authorize), named from the lists themselves. */
function otherCallersSection(): string[] {
  const common = new Set([...COMMON_CHECKS, ...ROUTE_PERMISSION_CHECKS]);
  const jwtOnly = JWT_CHECKS.filter((check) => !common.has(check)).map((check) => `\`${check.name}\``);
  const mappedSkipped = VIRTUAL_KEY_PIPELINE.filter((check) => !PRE_DB_CHECKS.includes(check) && !MAPPED_KEY_CHECKS.includes(check)).map(
    (check) => `\`${check.name}\``,
  );
  return [
    '',
    '## Other callers',
    '',
    `A JWT caller (docs/jwt.md) runs \`PRE_DB_CHECKS\`, then the JWT pipeline (verification, role policy,`,
    `team selection, its entities), then ${jwtOnly.join(' and ')} and the \`COMMON_CHECKS\` and`,
    `\`ROUTE_PERMISSION_CHECKS\` above (\`JWT_CHECKS\`, src/authorize/jwt-path.ts): no key, so no key checks.`,
    `A JWT that \`virtual_key_claim_field\` maps to a key runs that key's list from \`PRE_KEY_CHECKS\` on, without`,
    `${mappedSkipped.join(' and ')} (the key is known; \`MAPPED_KEY_CHECKS\`, src/authorize/mapped-key.ts).`,
  ];
}

describe('docs/checks.md — generated from the ordered check list', () => {
  it('matches src/checks/order.ts (regenerate with TOLLGATE_WRITE_DOCS=1)', () => {
    const expected = renderChecksDoc();
    if (process.env.TOLLGATE_WRITE_DOCS === '1') writeFileSync(DOC, expected);
    let actual = '';
    try {
      actual = readFileSync(DOC, 'utf8');
    } catch {
      // reported by the comparison below
    }
    if (actual !== expected) console.log(`docs/checks.md should read:\n\n${expected}`);
    expect(actual, 'docs/checks.md is out of step with src/checks/order.ts (expected text printed above)').to.equal(expected);
  });

  it('documents every check exactly once, in pipeline order', () => {
    const names = [...renderChecksDoc().matchAll(/^\| \d+ \| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(names).to.deep.equal(PHASES.flatMap((p) => p.checks.map((c) => c.name)));
  });
});
