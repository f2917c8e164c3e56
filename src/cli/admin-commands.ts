/**
 * Management commands: enough to set up a realistic tenant without SQL. Every write invalidates
 * the entities it touched, so running servers see it (README: "Writes from the CLI invalidate").
 */
import type { Command } from 'commander';
import { hashKey } from '../auth/key-hash';
import { membershipId } from '../store/auth-store';
import type { Settings } from '../config/settings';
import { USER_ROLES, type JsonObject, type UserRole } from '../domain/entities';
import {
  AdminInputError,
  requireTeamMemberRole,
  TEAM_MEMBER_ROLES,
  type NewBudgetWindow,
  type SpendKind,
  type TeamMemberRole,
} from '../store/admin-inputs';
import type { AdminSession } from './admin-session';
import { jwtKeyMappingId, type EntityKind } from '../cache/cached-auth-store';
import { revokeAtAfter } from '../store/grace-period';

type Exit = (code: number) => void;

function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function amount(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new AdminInputError(`not a number: '${value}'`);
  return n;
}

function jsonObject(value: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new AdminInputError(`not valid JSON: ${value}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AdminInputError('expected a JSON object');
  }
  return parsed as JsonObject;
}

/** `--budget-limits '[{"budget_duration": "1d", "max_budget": 5}, …]'`: checked further by the store. */
export function budgetLimits(value: string): NewBudgetWindow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new AdminInputError(`--budget-limits: not valid JSON: ${value}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((w) => w !== null && typeof w === 'object' && !Array.isArray(w))) {
    throw new AdminInputError('--budget-limits: expected a JSON list of {"budget_duration", "max_budget"} objects');
  }
  return parsed as NewBudgetWindow[];
}

/** `--model-max-budget '{"gpt-4o": {"budget_duration": "1d", "max_budget": 5}}'`: checked further by the store. */
export function modelMaxBudget(value: string): JsonObject {
  return namedJsonObject('--model-max-budget', value);
}

/** `--team-member-model-max-budget '{"gpt-4o": {"max_budget": 5}}'`: checked further by the store. */
export function teamMemberModelMaxBudget(value: string): JsonObject {
  return namedJsonObject('--team-member-model-max-budget', value);
}

function namedJsonObject(option: string, value: string): JsonObject {
  try {
    return jsonObject(value);
  } catch (error) {
    if (error instanceof AdminInputError) throw new AdminInputError(`${option}: ${error.message}`);
    throw error;
  }
}

const MODEL_MAX_BUDGET_HELP = 'per-model budgets, a JSON object: \'{"gpt-4o":{"budget_duration":"1d","max_budget":5}}\'';

const BUDGET_LIMITS_HELP = 'multi-window budgets, a JSON list: \'[{"budget_duration":"1d","max_budget":5},{"budget_duration":"30d","max_budget":100}]\'';

/**
 * `update` commands clear a setting given as `none`: a number or id to null, a list to empty (for
 * models: all models), a JSON object to `{}`, a list of windows to none.
 */
export const NONE = 'none';

/** `none` as parsed; commander would take a parser's null for "no value given" (a flag: true). */
const CLEAR: unique symbol = Symbol(NONE);
type Clear = typeof CLEAR;

/**
 * A team's `--metadata` must not name `team_member_budget_id`: LiteLLM sets it itself
 * (`--team-member-budget` creates and names the row; newer LiteLLM's /team/update drops a caller's
 * value), so naming it is refused (exit 2) rather than dropped.
 */
function requireNoMemberBudgetId(metadata: JsonObject | Clear | undefined): void {
  if (metadata !== undefined && metadata !== CLEAR && Object.hasOwn(metadata, 'team_member_budget_id')) {
    throw new AdminInputError('--metadata: team_member_budget_id is set by --team-member-budget (LiteLLM manages it), not by hand');
  }
}

/** Create's parser for an option, for `update`: `none` clears (NONE). */
export function orNone<T>(parse: (value: string) => T): (value: string) => T | Clear {
  return (value) => (value === NONE ? CLEAR : parse(value));
}

/** Parsed `update` options, a cleared one as null: what the store's changes take. */
export function cleared<T extends object>(options: T): { [K in keyof T]: Exclude<T[K], Clear> | null } {
  return Object.fromEntries(Object.entries(options).map(([name, value]) => [name, value === CLEAR ? null : value])) as {
    [K in keyof T]: Exclude<T[K], Clear> | null;
  };
}

const text = (value: string): string => value;

/**
 * `team add-member --budget`: a budget id. `none` used to unlink an existing member's budget there;
 * a repeat add is refused now, so it is pointed at the command that does that instead of being
 * looked up as a budget named "none".
 */
function budgetToLink(value: string): string {
  if (value === NONE) throw new AdminInputError('--budget none: to unlink a member\'s budget: team update-member --budget none');
  return value;
}

/** `--tpm` / `--rpm`, as `budget create` reads them. */
const LIMIT_HELP = { tpm: 'tokens per minute', rpm: 'requests per minute' } as const;

const BUDGET_DURATION_HELP = "budget_duration (1h, 1d, 30d, 1mo); sets budget_reset_at to LiteLLM's next reset for it (midnight, Monday, the 1st in litellm_settings.timezone)";

const UPDATE_HELP = 'changes only the settings named, as LiteLLM\'s /{what}/update; `none` clears one (a list to empty, JSON to {})';

function role(value: string): UserRole {
  if (!(USER_ROLES as readonly string[]).includes(value)) {
    throw new AdminInputError(`unknown role '${value}' (one of ${USER_ROLES.join(', ')})`);
  }
  return value as UserRole;
}

/** `30d`, `12h`, `15m` from now, or an ISO-8601 time. */
export function expiry(value: string, now = new Date()): Date {
  const relative = /^(\d+)([smhd])$/.exec(value);
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() + Number(relative[1]) * unit);
  }
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new AdminInputError(`--expires: expected 30d/12h/15m or an ISO time, got '${value}'`);
  return at;
}

/** A key is named by the raw `sk-…` value or by its sha256 hex (what `key info` shows). */
export function tokenOf(keyOrHash: string): string {
  return /^[0-9a-f]{64}$/.test(keyOrHash) ? keyOrHash : hashKey(keyOrHash);
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export function registerAdminCommands(program: Command, settings: () => Settings, exit: Exit): void {
  const run =
    <A extends unknown[]>(work: (session: AdminSession, ...args: A) => Promise<number | void>) =>
    async (...args: A): Promise<void> => {
      try {
        const { withAdminSession } = await import('./admin-session');
        const code = await withAdminSession(settings(), (session) => work(session, ...args));
        exit(code ?? 0);
      } catch (error) {
        if (!(error instanceof AdminInputError)) throw error;
        console.error(`tollgate: ${error.message}`);
        exit(2);
      }
    };

  const org = program.command('org').description('organizations');
  org
    .command('create')
    .requiredOption('--alias <alias>', 'organization alias')
    .option('--org-id <id>', 'organization id (default: a new uuid)')
    .option('--max-budget <usd>', 'organization budget (stored on its budget row)', amount)
    .option('--models <list>', 'comma-separated model allowlist', list)
    .action(
      run(async (s, o: { alias: string; orgId?: string; maxBudget?: number; models?: string[] }) => {
        const created = await s.admin.createOrganization({
          organizationId: o.orgId,
          alias: o.alias,
          maxBudget: o.maxBudget ?? null,
          models: o.models,
        });
        await s.invalidate('organization', created.organization_id);
        print(created);
      }),
    );

  const team = program.command('team').description('teams');
  team
    .command('create')
    .option('--team-id <id>', 'team id (default: a new uuid)')
    .option('--alias <alias>', 'team alias')
    .option('--org <id>', 'organization id')
    .option('--max-budget <usd>', 'team budget', amount)
    .option('--soft-budget <usd>', 'alert threshold', amount)
    .option('--models <list>', 'comma-separated model allowlist (empty = all models)', list)
    .option('--blocked', 'create the team blocked')
    .option('--metadata <json>', 'team metadata (JSON object; not team_member_budget_id)', jsonObject)
    .option('--model-max-budget <json>', MODEL_MAX_BUDGET_HELP, modelMaxBudget)
    .option('--budget-limits <json>', BUDGET_LIMITS_HELP, budgetLimits)
    .option('--team-member-budget <usd>', "each member's default budget: creates a budget row named in metadata.team_member_budget_id", amount)
    .option('--team-member-budget-duration <duration>', "that budget row's budget_duration (1h, 1d, 30d, 1mo)")
    .option(
      '--team-member-model-max-budget <json>',
      'per-member model budgets, stored in metadata: \'{"gpt-4o":{"max_budget":5}}\' (spend per member and model, never reset)',
      teamMemberModelMaxBudget,
    )
    .action(
      run(
        async (
          s,
          o: {
            teamId?: string;
            alias?: string;
            org?: string;
            maxBudget?: number;
            softBudget?: number;
            models?: string[];
            blocked?: boolean;
            metadata?: JsonObject;
            modelMaxBudget?: JsonObject;
            budgetLimits?: NewBudgetWindow[];
            teamMemberBudget?: number;
            teamMemberBudgetDuration?: string;
            teamMemberModelMaxBudget?: JsonObject;
          },
        ) => {
          requireNoMemberBudgetId(o.metadata);
          const created = await s.admin.createTeam({
            teamId: o.teamId,
            alias: o.alias ?? null,
            organizationId: o.org ?? null,
            maxBudget: o.maxBudget ?? null,
            softBudget: o.softBudget ?? null,
            models: o.models,
            blocked: o.blocked ?? false,
            metadata: o.metadata,
            modelMaxBudget: o.modelMaxBudget,
            budgetLimits: o.budgetLimits,
            teamMemberBudget: o.teamMemberBudget ?? null,
            teamMemberBudgetDuration: o.teamMemberBudgetDuration ?? null,
            teamMemberModelMaxBudget: o.teamMemberModelMaxBudget,
          });
          await s.invalidate('team', created.team_id);
          // As `budget create`: the member budget row is new, and a server may remember it as absent.
          const memberBudgetId = created.metadata['team_member_budget_id'];
          if (typeof memberBudgetId === 'string') await s.invalidate('budget', memberBudgetId);
          print(created);
        },
      ),
    );
  team
    .command('update <team-id>')
    .description(UPDATE_HELP.replace('{what}', 'team'))
    .option('--alias <alias>', 'team alias', orNone(text))
    .option('--org <id>', 'organization id', orNone(text))
    .option('--max-budget <usd>', 'team budget', orNone(amount))
    .option('--soft-budget <usd>', 'alert threshold', orNone(amount))
    .option('--models <list>', 'comma-separated model allowlist (none = all models)', orNone(list))
    .option('--metadata <json>', 'replaces the team metadata (JSON object; not team_member_budget_id), keeping what the team member options manage', orNone(jsonObject))
    .option('--model-max-budget <json>', MODEL_MAX_BUDGET_HELP, orNone(modelMaxBudget))
    .option('--budget-limits <json>', BUDGET_LIMITS_HELP, orNone(budgetLimits))
    .option('--budget-duration <duration>', BUDGET_DURATION_HELP, orNone(text))
    .option('--tpm <n>', LIMIT_HELP.tpm, orNone(amount))
    .option('--rpm <n>', LIMIT_HELP.rpm, orNone(amount))
    .option(
      '--team-member-budget <usd>',
      "each member's default budget: changes the budget row named in metadata.team_member_budget_id (creates it if none), and links the team's members without a budget to it",
      orNone(amount),
    )
    .option('--team-member-budget-duration <duration>', "that budget row's budget_duration (1h, 1d, 30d, 1mo)", orNone(text))
    .option('--team-member-model-max-budget <json>', 'per-member model budgets, stored in metadata: \'{"gpt-4o":{"max_budget":5}}\'', orNone(teamMemberModelMaxBudget))
    .action(
      run(
        async (
          s,
          teamId: string,
          raw: {
            alias?: string | Clear;
            org?: string | Clear;
            maxBudget?: number | Clear;
            softBudget?: number | Clear;
            models?: string[] | Clear;
            metadata?: JsonObject | Clear;
            modelMaxBudget?: JsonObject | Clear;
            budgetLimits?: NewBudgetWindow[] | Clear;
            budgetDuration?: string | Clear;
            tpm?: number | Clear;
            rpm?: number | Clear;
            teamMemberBudget?: number | Clear;
            teamMemberBudgetDuration?: string | Clear;
            teamMemberModelMaxBudget?: JsonObject | Clear;
          },
        ) => {
          requireNoMemberBudgetId(raw.metadata);
          const o = cleared(raw);
          const changesMemberBudget = o.teamMemberBudget !== undefined || o.teamMemberBudgetDuration !== undefined;
          const memberBudgetBefore = await s.admin.teamMemberBudgetIdOf(teamId);
          const entities: Array<[EntityKind, string]> = [['team', teamId]];
          if (changesMemberBudget && memberBudgetBefore !== null) entities.push(['budget', memberBudgetBefore]);
          const result = await announcedWrite(s, entities, () =>
            s.admin.updateTeamAndMemberships(teamId, {
              alias: o.alias,
              organizationId: o.org,
              maxBudget: o.maxBudget,
              softBudget: o.softBudget,
              models: o.models,
              metadata: o.metadata,
              modelMaxBudget: o.modelMaxBudget,
              budgetLimits: o.budgetLimits,
              budgetDuration: o.budgetDuration,
              tpmLimit: o.tpm,
              rpmLimit: o.rpm,
              teamMemberBudget: o.teamMemberBudget,
              teamMemberBudgetDuration: o.teamMemberBudgetDuration,
              teamMemberModelMaxBudget: o.teamMemberModelMaxBudget,
            }),
          );
          if (result === null) throw new AdminInputError(`no team '${teamId}'`);
          const updated = result.team;
          // Memberships the member budget was linked to: a server may hold them without it.
          for (const userId of result.memberships) await s.invalidate('membership', membershipId(userId, teamId));
          // A member budget row the update created, or one --metadata now names: a server may remember it as absent.
          const memberBudgetAfter = updated.metadata['team_member_budget_id'];
          if (typeof memberBudgetAfter === 'string' && memberBudgetAfter !== memberBudgetBefore) await s.invalidate('budget', memberBudgetAfter);
          print(updated);
        },
      ),
    );
  for (const [name, blocked] of [
    ['block', true],
    ['unblock', false],
  ] as const) {
    team
      .command(`${name} <team-id>`)
      .description(`${name} a team (all its keys are ${blocked ? 'refused' : 'allowed again'})`)
      .action(
        run(async (s, teamId: string) => {
          const updated = await announcedWrite(s, [['team', teamId]], () => s.admin.setTeamBlocked(teamId, blocked));
          if (updated === null) throw new AdminInputError(`no team '${teamId}'`);
          print(updated);
        }),
      );
  }
  team
    .command('add-member')
    .description(
      "adds a user to a team, as newer LiteLLM's /team/member_add: a user already in the team is refused (exit 2); " +
        "a membership row is written only when the member gets a budget",
    )
    .requiredOption('--team <id>', 'team id')
    .requiredOption('--user <id>', 'user id')
    .option(
      '--budget <id>',
      "budget id for this member (default: its own copy of the team's default member budget, if the team has one; else no membership row)",
      budgetToLink,
    )
    .action(
      run(async (s, o: { team: string; user: string; budget?: string }) => {
        const entities: Array<[EntityKind, string]> = [
          ['membership', membershipId(o.user, o.team)],
          ['team', o.team],
        ];
        const membership = await announcedWrite(s, entities, () => s.admin.addTeamMember(o.user, o.team, o.budget));
        // As `budget create`: a row copied from the team's default is new, and a server may remember it as absent.
        if (o.budget === undefined && membership !== null && membership.budget !== null) await s.invalidate('budget', membership.budget.budget_id);
        if (membership === null) {
          console.error(
            'no membership row: no --budget was given and the team has no default member budget, or names a budget row that is gone (LiteLLM writes none either)',
          );
        }
        print(membership);
      }),
    );
  team
    .command('update-member')
    .description(
      "changes a team member, as LiteLLM's /team/member_update: budget amounts, duration and allowed models are written to the " +
        "member's own budget row (a shared one, as the team's default member budget, is copied first), --role to its entry in " +
        'members_with_roles; `none` clears one. --budget links an existing budget row instead (or `none`: none), changing no budget ' +
        'row. Prints {"member": its members_with_roles entry, "membership": its membership row, null if none}',
    )
    .requiredOption('--team <id>', 'team id')
    .requiredOption('--user <id>', 'user id')
    .option('--max-budget-in-team <usd>', "the member's budget in the team (spend on its membership row)", orNone(amount))
    .option('--tpm-limit <n>', `the member's ${LIMIT_HELP.tpm} in the team`, orNone(amount))
    .option('--rpm-limit <n>', `the member's ${LIMIT_HELP.rpm} in the team`, orNone(amount))
    .option('--budget-duration <duration>', `the member's ${BUDGET_DURATION_HELP}`, orNone(text))
    .option('--allowed-models <list>', "comma-separated models the member may call in the team (`none`: all the team's)", orNone(list))
    .option('--role <role>', `the member's role in the team, one of ${TEAM_MEMBER_ROLES.join(', ')}`, requireTeamMemberRole)
    .option('--budget <id>', 'links this existing budget row instead of amounts, `none` to unlink its budget', orNone(text))
    .action(
      run(
        async (
          s,
          raw: {
            team: string;
            user: string;
            maxBudgetInTeam?: number | Clear;
            tpmLimit?: number | Clear;
            rpmLimit?: number | Clear;
            budgetDuration?: string | Clear;
            allowedModels?: string[] | Clear;
            role?: TeamMemberRole;
            budget?: string | Clear;
          },
        ) => {
          const { team: teamId, user: userId, role, ...amounts } = raw;
          const o = cleared(amounts);
          const entities: Array<[EntityKind, string]> = [['membership', membershipId(userId, teamId)]];
          if (role !== undefined) entities.push(['team', teamId]);
          const { member, membership, budgetIds } = await announcedWrite(s, entities, () =>
            s.admin.updateTeamMember(userId, teamId, {
              budgetId: o.budget,
              maxBudgetInTeam: o.maxBudgetInTeam,
              tpmLimit: o.tpmLimit,
              rpmLimit: o.rpmLimit,
              budgetDuration: o.budgetDuration,
              allowedModels: o.allowedModels,
              role,
            }),
          );
          // A row changed in place may be cached as itself; a new one may be remembered as absent.
          for (const budgetId of budgetIds) await s.invalidate('budget', budgetId);
          // As add-member: a null membership printed alone would not say that no budget was written.
          if (membership === null) {
            const changed = role === undefined ? '' : `role set to ${role} in the team's members_with_roles; `;
            console.error(`${changed}no membership row: the member has none, and no budget was written (LiteLLM writes none either)`);
          }
          print({ member, membership });
        },
      ),
    );

  const user = program.command('user').description('internal users');
  user
    .command('create')
    .requiredOption('--user-id <id>', 'user id')
    .option('--email <email>', 'email')
    .option('--role <role>', `one of ${USER_ROLES.join(', ')}`, role)
    .option('--max-budget <usd>', 'personal budget', amount)
    .option('--budget-limits <json>', BUDGET_LIMITS_HELP, budgetLimits)
    .option('--models <list>', 'comma-separated model allowlist', list)
    .action(
      run(async (s, o: { userId: string; email?: string; role?: UserRole; maxBudget?: number; budgetLimits?: NewBudgetWindow[]; models?: string[] }) => {
        const created = await s.admin.createUser({
          userId: o.userId,
          email: o.email ?? null,
          role: o.role,
          maxBudget: o.maxBudget ?? null,
          budgetLimits: o.budgetLimits,
          models: o.models,
        });
        await s.invalidate('user', created.user_id);
        print(created);
      }),
    );

  user
    .command('update <user-id>')
    .description(UPDATE_HELP.replace('{what}', 'user'))
    .option('--email <email>', 'email', orNone(text))
    .option('--role <role>', `one of ${USER_ROLES.join(', ')}`, orNone(role))
    .option('--max-budget <usd>', 'personal budget', orNone(amount))
    .option('--budget-limits <json>', BUDGET_LIMITS_HELP, orNone(budgetLimits))
    .option('--budget-duration <duration>', BUDGET_DURATION_HELP, orNone(text))
    .option('--models <list>', 'comma-separated model allowlist (none = all models)', orNone(list))
    .option('--tpm <n>', LIMIT_HELP.tpm, orNone(amount))
    .option('--rpm <n>', LIMIT_HELP.rpm, orNone(amount))
    .action(
      run(
        async (
          s,
          userId: string,
          raw: {
            email?: string | Clear;
            role?: UserRole | Clear;
            maxBudget?: number | Clear;
            budgetLimits?: NewBudgetWindow[] | Clear;
            budgetDuration?: string | Clear;
            models?: string[] | Clear;
            tpm?: number | Clear;
            rpm?: number | Clear;
          },
        ) => {
          const o = cleared(raw);
          const entities: Array<[EntityKind, string]> = [['user', userId]];
          // Servers remember which user an email names (validate_end_user_id_in_db): the old email's answer goes too.
          const emailBefore = o.email === undefined ? null : await s.admin.userEmailOf(userId);
          if (emailBefore !== null) entities.push(['user_email', emailBefore.toLowerCase()]);
          const updated = await announcedWrite(s, entities, () =>
            s.admin.updateUser(userId, {
              email: o.email,
              role: o.role,
              maxBudget: o.maxBudget,
              budgetLimits: o.budgetLimits,
              budgetDuration: o.budgetDuration,
              models: o.models,
              tpmLimit: o.tpm,
              rpmLimit: o.rpm,
            }),
          );
          if (updated === null) throw new AdminInputError(`no user '${userId}'`);
          print(updated);
        },
      ),
    );

  const agent = program.command('agent').description("agents (LiteLLM_AgentsTable): a key's agent_id names one");
  agent
    .command('create')
    .requiredOption('--name <name>', 'agent name (unique)')
    .option('--id <id>', 'agent id (default: a new uuid)')
    .option('--rpm <n>', 'requests per minute over all its sessions', amount)
    .option('--tpm <n>', 'tokens per minute over all its sessions', amount)
    .option('--session-rpm <n>', 'requests per minute within one session', amount)
    .option('--session-tpm <n>', 'tokens per minute within one session', amount)
    .option('--require-trace-id', "its keys' calls must send x-litellm-trace-id (require_trace_id_on_calls_by_agent)")
    .option('--max-iterations <n>', 'calls one session may make (max_iterations)', amount)
    .option('--max-budget-per-session <usd>', 'dollars one session may spend (max_budget_per_session; needs tollgate.metering)', amount)
    .action(
      run(
        async (
          s,
          o: {
            name: string;
            id?: string;
            rpm?: number;
            tpm?: number;
            sessionRpm?: number;
            sessionTpm?: number;
            requireTraceId?: boolean;
            maxIterations?: number;
            maxBudgetPerSession?: number;
          },
        ) => {
          const created = await s.admin.createAgent({
            agentId: o.id,
            name: o.name,
            rpmLimit: o.rpm ?? null,
            tpmLimit: o.tpm ?? null,
            sessionRpmLimit: o.sessionRpm ?? null,
            sessionTpmLimit: o.sessionTpm ?? null,
            requireTraceId: o.requireTraceId === true,
            maxIterations: o.maxIterations ?? null,
            maxBudgetPerSession: o.maxBudgetPerSession ?? null,
          });
          // Clears a cached "unknown agent" left by a request that named it before it existed.
          await s.invalidate('agent', created.agent_id);
          print(created);
        },
      ),
    );

  agent
    .command('update <agent-id>')
    .description(UPDATE_HELP.replace('{what}', 'agent') + '; its other litellm_params are kept')
    .option('--name <name>', 'agent name (unique)', text)
    .option('--rpm <n>', 'requests per minute over all its sessions (none: unlimited)', orNone(amount))
    .option('--tpm <n>', 'tokens per minute over all its sessions (none: unlimited)', orNone(amount))
    .option('--session-rpm <n>', 'requests per minute within one session (none: unlimited)', orNone(amount))
    .option('--session-tpm <n>', 'tokens per minute within one session (none: unlimited)', orNone(amount))
    .option('--require-trace-id', "its keys' calls must send x-litellm-trace-id")
    .option('--no-require-trace-id', 'they need not')
    .option('--max-iterations <n>', 'calls one session may make (none: no cap)', orNone(amount))
    .option('--max-budget-per-session <usd>', 'dollars one session may spend (none: no cap)', orNone(amount))
    .action(
      run(
        async (
          s,
          agentId: string,
          raw: {
            name?: string;
            rpm?: number | Clear;
            tpm?: number | Clear;
            sessionRpm?: number | Clear;
            sessionTpm?: number | Clear;
            requireTraceId?: boolean;
            maxIterations?: number | Clear;
            maxBudgetPerSession?: number | Clear;
          },
        ) => {
          const o = cleared(raw);
          const updated = await announcedWrite(s, [['agent', agentId]], () =>
            s.admin.updateAgent(agentId, {
              name: o.name,
              rpmLimit: o.rpm,
              tpmLimit: o.tpm,
              sessionRpmLimit: o.sessionRpm,
              sessionTpmLimit: o.sessionTpm,
              requireTraceId: o.requireTraceId,
              maxIterations: o.maxIterations,
              maxBudgetPerSession: o.maxBudgetPerSession,
            }),
          );
          if (updated === null) throw new AdminInputError(`no agent '${agentId}'`);
          print(updated);
        },
      ),
    );

  const endUser = program.command('end-user').description('end users (customers: the request `user`)');
  endUser
    .command('create')
    .requiredOption('--end-user-id <id>', 'end-user id, as sent in the request')
    .option('--budget <id>', 'existing budget id')
    .option('--max-budget <usd>', 'creates a budget row for this end user', amount)
    .option('--budget-limits <json>', BUDGET_LIMITS_HELP, budgetLimits)
    .action(
      run(async (s, o: { endUserId: string; budget?: string; maxBudget?: number; budgetLimits?: NewBudgetWindow[] }) => {
        const created = await s.admin.createEndUser({
          userId: o.endUserId,
          budgetId: o.budget ?? null,
          maxBudget: o.maxBudget ?? null,
          budgetLimits: o.budgetLimits,
        });
        await s.invalidate('end_user', created.user_id);
        print(created);
      }),
    );

  endUser
    .command('update <end-user-id>')
    .description(
      UPDATE_HELP.replace('{what}', 'customer') +
        '. --max-budget, --tpm, --rpm and --budget-duration change its budget row (shared by every end user linked to it), or create one',
    )
    .option('--budget <id>', 'link to an existing budget id (none: no budget row of its own)', orNone(text))
    .option('--max-budget <usd>', "the budget row's hard limit", orNone(amount))
    .option('--budget-limits <json>', BUDGET_LIMITS_HELP, orNone(budgetLimits))
    .option('--budget-duration <duration>', "the budget row's budget_duration (1h, 1d, 30d, 1mo); sets its budget_reset_at to LiteLLM's next reset for it", orNone(text))
    .option('--tpm <n>', `the budget row's ${LIMIT_HELP.tpm}`, orNone(amount))
    .option('--rpm <n>', `the budget row's ${LIMIT_HELP.rpm}`, orNone(amount))
    .action(
      run(
        async (
          s,
          endUserId: string,
          raw: {
            budget?: string | Clear;
            maxBudget?: number | Clear;
            budgetLimits?: NewBudgetWindow[] | Clear;
            budgetDuration?: string | Clear;
            tpm?: number | Clear;
            rpm?: number | Clear;
          },
        ) => {
          const o = cleared(raw);
          const changesBudgetRow = [o.maxBudget, o.budgetDuration, o.tpm, o.rpm].some((value) => value !== undefined);
          // Each end user is cached with its budget row joined: a change of the row reaches every one linked to it.
          const scope = changesBudgetRow ? await s.admin.endUserBudgetScope(endUserId) : { budgetId: null, endUserIds: [endUserId] };
          const entities: Array<[EntityKind, string]> = scope.endUserIds.map((id) => ['end_user', id]);
          if (scope.budgetId !== null) entities.push(['budget', scope.budgetId]);
          const updated = await announcedWrite(s, entities, () =>
            s.admin.updateEndUser(endUserId, {
              budgetId: o.budget,
              maxBudget: o.maxBudget,
              budgetLimits: o.budgetLimits,
              budgetDuration: o.budgetDuration,
              tpmLimit: o.tpm,
              rpmLimit: o.rpm,
            }),
          );
          if (updated === null) throw new AdminInputError(`no end user '${endUserId}'`);
          print(updated);
        },
      ),
    );

  const budget = program.command('budget').description('shared budget rows');
  budget
    .command('create')
    .option('--budget-id <id>', 'budget id (default: a new uuid)')
    .option('--max-budget <usd>', 'hard limit', amount)
    .option('--soft-budget <usd>', 'alert threshold', amount)
    .option('--tpm <n>', 'tokens per minute', amount)
    .option('--rpm <n>', 'requests per minute', amount)
    .option('--budget-duration <duration>', BUDGET_DURATION_HELP, text)
    .action(
      run(async (s, o: { budgetId?: string; maxBudget?: number; softBudget?: number; tpm?: number; rpm?: number; budgetDuration?: string }) => {
        const created = await s.admin.createBudget({
          budgetId: o.budgetId,
          maxBudget: o.maxBudget ?? null,
          softBudget: o.softBudget ?? null,
          tpmLimit: o.tpm ?? null,
          rpmLimit: o.rpm ?? null,
          budgetDuration: o.budgetDuration ?? null,
        });
        await s.invalidate('budget', created.budget_id);
        print(created);
      }),
    );

  const key = program.command('key').description('virtual keys');
  key
    .command('create')
    .option('--team <id>', 'team id')
    .option('--user <id>', 'user id (owner)')
    .option('--org <id>', 'organization id')
    .option('--project <id>', 'project id')
    .option('--alias <alias>', 'key alias')
    .option('--models <list>', 'comma-separated model allowlist (empty = all models)', list)
    .option('--max-budget <usd>', 'key budget', amount)
    .option('--expires <when>', '30d, 12h, 15m or an ISO time', (v: string) => expiry(v))
    .option('--budget <id>', 'linked budget row (soft budget, limits)')
    .option('--allowed-routes <list>', 'comma-separated route allowlist', list)
    .option('--metadata <json>', 'key metadata (JSON object)', jsonObject)
    .option('--model-max-budget <json>', MODEL_MAX_BUDGET_HELP, modelMaxBudget)
    .option('--budget-limits <json>', BUDGET_LIMITS_HELP, budgetLimits)
    .option('--agent <id>', 'the agent the key acts for (its limits, session caps and trace-id requirement hold the key)')
    .action(
      run(
        async (
          s,
          o: {
            team?: string;
            user?: string;
            org?: string;
            project?: string;
            alias?: string;
            models?: string[];
            maxBudget?: number;
            expires?: Date;
            budget?: string;
            allowedRoutes?: string[];
            metadata?: JsonObject;
            modelMaxBudget?: JsonObject;
            budgetLimits?: NewBudgetWindow[];
            agent?: string;
          },
        ) => {
          const created = await s.admin.createKey({
            agentId: o.agent ?? null,
            teamId: o.team ?? null,
            userId: o.user ?? null,
            organizationId: o.org ?? null,
            projectId: o.project ?? null,
            alias: o.alias ?? null,
            models: o.models,
            maxBudget: o.maxBudget ?? null,
            expires: o.expires ?? null,
            budgetId: o.budget ?? null,
            allowedRoutes: o.allowedRoutes,
            metadata: o.metadata,
            modelMaxBudget: o.modelMaxBudget,
            budgetLimits: o.budgetLimits,
          });
          // Clears a cached "unknown key" left by an attempt made before the key existed.
          await s.invalidate('key', created.token);
          console.log(`key:   ${created.key}`);
          console.log(`hash:  ${created.token}`);
          console.log('The key is shown only now; Tollgate stores only its hash.');
        },
      ),
    );
  key
    .command('update <key-or-hash>')
    .description(UPDATE_HELP.replace('{what}', 'key') + '; the key keeps its value, spend and hash')
    .option('--team <id>', 'team id', orNone(text))
    .option('--user <id>', 'user id (owner)', orNone(text))
    .option('--org <id>', 'organization id', orNone(text))
    .option('--project <id>', 'project id', orNone(text))
    .option('--alias <alias>', 'key alias', orNone(text))
    .option('--models <list>', 'comma-separated model allowlist (none = all models)', orNone(list))
    .option('--max-budget <usd>', 'key budget', orNone(amount))
    .option('--expires <when>', '30d, 12h, 15m from now or an ISO time (none: never)', orNone((v: string) => expiry(v)))
    .option('--budget <id>', 'linked budget row (soft budget, limits)', orNone(text))
    .option('--allowed-routes <list>', 'comma-separated route allowlist', orNone(list))
    .option('--metadata <json>', 'replaces the key metadata (JSON object)', orNone(jsonObject))
    .option('--model-max-budget <json>', MODEL_MAX_BUDGET_HELP, orNone(modelMaxBudget))
    .option('--budget-limits <json>', BUDGET_LIMITS_HELP, orNone(budgetLimits))
    .option('--budget-duration <duration>', BUDGET_DURATION_HELP, orNone(text))
    .option('--tpm <n>', LIMIT_HELP.tpm, orNone(amount))
    .option('--rpm <n>', LIMIT_HELP.rpm, orNone(amount))
    .option('--agent <id>', 'the agent the key acts for (none: no agent)', orNone(text))
    .action(
      run(
        async (
          s,
          keyOrHash: string,
          raw: {
            team?: string | Clear;
            user?: string | Clear;
            org?: string | Clear;
            project?: string | Clear;
            alias?: string | Clear;
            models?: string[] | Clear;
            maxBudget?: number | Clear;
            expires?: Date | Clear;
            budget?: string | Clear;
            allowedRoutes?: string[] | Clear;
            metadata?: JsonObject | Clear;
            modelMaxBudget?: JsonObject | Clear;
            budgetLimits?: NewBudgetWindow[] | Clear;
            budgetDuration?: string | Clear;
            tpm?: number | Clear;
            rpm?: number | Clear;
            agent?: string | Clear;
          },
        ) => {
          const o = cleared(raw);
          const token = tokenOf(keyOrHash);
          const updated = await announcedWrite(s, [['key', token]], () =>
            s.admin.updateKey(token, {
              teamId: o.team,
              userId: o.user,
              organizationId: o.org,
              projectId: o.project,
              alias: o.alias,
              models: o.models,
              maxBudget: o.maxBudget,
              expires: o.expires,
              budgetId: o.budget,
              allowedRoutes: o.allowedRoutes,
              metadata: o.metadata,
              modelMaxBudget: o.modelMaxBudget,
              budgetLimits: o.budgetLimits,
              budgetDuration: o.budgetDuration,
              tpmLimit: o.tpm,
              rpmLimit: o.rpm,
              agentId: o.agent,
            }),
          );
          if (updated === null) throw new AdminInputError('no such key');
          print(updated);
        },
      ),
    );
  for (const [name, blocked] of [
    ['block', true],
    ['unblock', false],
  ] as const) {
    key
      .command(`${name} <key-or-hash>`)
      .description(`${name} a key`)
      .action(
        run(async (s, keyOrHash: string) => {
          const token = tokenOf(keyOrHash);
          const updated = await announcedWrite(s, [['key', token]], () => s.admin.setKeyBlocked(token, blocked));
          if (updated === null) throw new AdminInputError('no such key');
          print(updated);
        }),
      );
  }
  key
    .command('info <key-or-hash>')
    .description('show the stored key row (never the key itself)')
    .action(
      run(async (s, keyOrHash: string) => {
        const found = await s.admin.findKeyInfo(tokenOf(keyOrHash));
        if (found === null) throw new AdminInputError('no such key');
        print(found);
      }),
    );
  key
    .command('regenerate <key-or-hash>')
    .description('give a key a new value, keeping its row (team, budgets, spend, limits), as LiteLLM\'s /key/regenerate does')
    .option('--grace-period <duration>', 'keep the old key working, as the new one, this long (30s, 15m, 24h, 2d, 1w, 1mo); default: refused at once')
    .action(
      run(async (s, keyOrHash: string, o: { gracePeriod?: string }) => {
        const token = tokenOf(keyOrHash);
        const revokeAt = revokeAtAfter(o.gracePeriod, new Date());
        // The old hash's key row and its "not found" in the deprecated kind are announced whether
        // or not the write's answer arrives: the old key must stop, or start resolving, at once.
        const regenerated = await announcedWrite(
          s,
          [
            ['key', token],
            ['deprecated_key', token],
            // Its JWT mappings move to the new hash: a server holding one must not keep the old.
            ...(await mappingsOf(s, token)),
          ],
          () => s.admin.regenerateKey(token, revokeAt),
        );
        if (regenerated === null) throw new AdminInputError('no such key');
        // Clears a cached "unknown key" for the new hash, as `key create` does.
        await s.invalidate('key', regenerated.token);
        console.log(`key:   ${regenerated.key}`);
        console.log(`hash:  ${regenerated.token}`);
        console.log(
          regenerated.revokeAt === null
            ? `old:   ${regenerated.previousToken} (refused from now on)`
            : `old:   ${regenerated.previousToken} (works as this key until ${regenerated.revokeAt.toISOString()})`,
        );
        console.log('The key is shown only now; Tollgate stores only its hash.');
      }),
    );
  key
    .command('delete <key-or-hash>')
    .action(
      run(async (s, keyOrHash: string) => {
        const token = tokenOf(keyOrHash);
        // A revocation: announced even when the answer is lost after the DELETE committed.
        // Its JWT mappings go with it: their clients are unregistered again on every server.
        const deleted = await announcedWrite(s, [['key', token], ...(await mappingsOf(s, token))], () => s.admin.deleteKey(token));
        if (!deleted) throw new AdminInputError('no such key');
        console.log('deleted');
      }),
    );

  const mapping = program.command('jwt-mapping').description('JWT claim → virtual key mappings (LiteLLM_JWTKeyMapping, litellm_jwtauth.virtual_key_claim_field)');
  mapping
    .command('create')
    .description('decide tokens whose claim has this value as this key')
    .requiredOption('--claim-name <name>', 'the claim, as virtual_key_claim_field names it (e.g. email, azp, client.id)')
    .requiredOption('--claim-value <value>', "the claim's value as Python's str() prints it (42, True, a@b.c)")
    .requiredOption('--key <key-or-hash>', 'the key: its sk-… value or its hash')
    .option('--description <text>')
    .action(
      run(async (s, o: { claimName: string; claimValue: string; key: string; description?: string }) => {
        const created = await s.admin.createJwtKeyMapping({ claimName: o.claimName, claimValue: o.claimValue, token: tokenOf(o.key), description: o.description });
        // Clears a cached "no mapping" for the claim on every server.
        await s.invalidate('jwt_key_mapping', jwtKeyMappingId(created.jwt_claim_name, created.jwt_claim_value));
        print(created);
      }),
    );
  mapping
    .command('delete')
    .description("stop deciding tokens with this claim value as a key (they are then unregistered clients)")
    .requiredOption('--claim-name <name>')
    .requiredOption('--claim-value <value>')
    .action(
      run(async (s, o: { claimName: string; claimValue: string }) => {
        // A revocation: announced even when the answer is lost after the DELETE committed.
        const deleted = await announcedWrite(s, [['jwt_key_mapping', jwtKeyMappingId(o.claimName, o.claimValue)]], () =>
          s.admin.deleteJwtKeyMapping(o.claimName, o.claimValue),
        );
        if (!deleted) throw new AdminInputError('no such mapping');
        console.log('deleted');
      }),
    );

  const spend = program.command('spend').description("spend columns (what LiteLLM's spend writer maintains)");
  spend
    .command('set <amount>')
    .description('set the spend of one entity, e.g. `tollgate spend set --team research 12.5`')
    .option('--key <key-or-hash>', 'a virtual key')
    .option('--team <id>', 'a team')
    .option('--user <id>', 'a user')
    .option('--org <id>', 'an organization')
    .option('--end-user <id>', 'an end user')
    .option('--project <id>', 'a project')
    .option('--tag <name>', 'a tag')
    .action(
      run(
        async (
          s,
          value: string,
          o: { key?: string; team?: string; user?: string; org?: string; endUser?: string; project?: string; tag?: string },
        ) => {
          const targets: Array<[SpendKind, string | undefined]> = [
            ['key', o.key === undefined ? undefined : tokenOf(o.key)],
            ['team', o.team],
            ['user', o.user],
            ['organization', o.org],
            ['end_user', o.endUser],
            ['project', o.project],
            ['tag', o.tag],
          ];
          const chosen = targets.filter((t): t is [SpendKind, string] => t[1] !== undefined);
          if (chosen.length !== 1) throw new AdminInputError('name exactly one of --key, --team, --user, --org, --end-user, --project, --tag');
          const [kind, id] = chosen[0] as [SpendKind, string];
          const spend = amount(value);
          if (!(await s.admin.setSpend(kind, id, spend))) throw new AdminInputError(`no ${kind} '${id}'`);
          // Counter before invalidation: once caches are purged, no Check may re-seed from the old value.
          const counted = await overrideCounter(s, kind, id, spend);
          await s.invalidate(kind, id);
          console.log(`${kind} ${kind === 'key' ? 'hash ' : ''}${id}: spend = ${value}${counted}`);
          return counted === COUNTER_NOT_WRITTEN ? 1 : 0;
        },
      ),
    );
}

/**
 * A write whose entities are announced whether it succeeds or fails: a write can commit and its
 * answer still be lost (a timeout, a dropped connection), and a server told of a write that did
 * not happen only reloads a row.
 */
/** The cache entries of a key's JWT mappings (cached by claim name and value, not by key). */
async function mappingsOf(s: AdminSession, token: string): Promise<Array<readonly [EntityKind, string]>> {
  const pairs = await s.admin.jwtKeyMappingsOf(token);
  return pairs.map(([claimName, claimValue]) => ['jwt_key_mapping', jwtKeyMappingId(claimName, claimValue)] as const);
}

export async function announcedWrite<T>(
  s: Pick<AdminSession, 'invalidate'>,
  entities: ReadonlyArray<readonly [EntityKind, string]>,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } finally {
    for (const [kind, id] of entities) await s.invalidate(kind, id);
  }
}

const COUNTER_NOT_WRITTEN = ' (database only: the shared spend counter could not be written)';

/**
 * With metering, admission reads the shared Redis counter, so `spend set` writes it too. The
 * database write is done either way; a counter left behind is reported (and the exit code is 1),
 * with how to re-seed it by hand.
 */
async function overrideCounter(s: AdminSession, kind: SpendKind, id: string, spend: number): Promise<string> {
  try {
    const result = await s.overrideSpendCounter(kind, id, spend);
    if (result === null || result.counter === 'absent') return '';
    if (result.queued > 0) {
      console.error(
        `warning: ${result.queued} charge(s) for this ${kind} were still queued; the database column will include them once flushed, ` +
          'the shared counter will not',
      );
    }
    return result.value === spend ? '' : ` (${result.value} in the current budget window)`;
  } catch (error) {
    console.error(
      `warning: the shared spend counter was not updated (${error instanceof Error ? error.message : String(error)}); ` +
        `budget checks keep the old spend until it is deleted from Redis (key spend:c:${kind}:<id> under the prefix) or expires`,
    );
    return COUNTER_NOT_WRITTEN;
  }
}
