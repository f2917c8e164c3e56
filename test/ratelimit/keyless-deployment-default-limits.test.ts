import { expect } from 'chai';
import { parseLiteLlmConfig } from '../../src/config/litellm-config';
import { buildPolicy, type Policy } from '../../src/config/policy';
import type { Snapshot } from '../../src/checks/types';
import { UNREAD_MODEL, type RequestFacts } from '../../src/domain/request';
import { keylessCallerWindow } from '../../src/ratelimit/deployment-default-limits';
import { rateBucketKey, rateLimitsOf } from '../../src/ratelimit/rate-limits';
import { rateTargetName } from '../../src/spend/targets';
import { aKey, aSnapshot, aTeam, KEY_HASH } from '../checks/fixtures';

/** One deployment of `name`, with `params` added to its litellm_params. */
function deployment(name: string, params = ''): string {
  return `  - model_name: ${name}\n    litellm_params:\n      model: openai/${name}\n${params === '' ? '' : `      ${params.split('\n').join('\n      ')}\n`}`;
}

const policy = buildPolicy(
  parseLiteLlmConfig(`model_list:\n${deployment('model1', 'default_api_key_rpm_limit: 200\ndefault_api_key_tpm_limit: 1000')}${deployment('model2', 'default_api_key_rpm_limit: 20')}`, {}),
);
const withoutDefaults = buildPolicy(parseLiteLlmConfig(`model_list:\n${deployment('model1')}${deployment('model2')}`, {}));

/** A JWT caller's snapshot: no key, the token's user id (null when it names none). */
function jwtCaller(userId: string | null, overrides: Partial<Snapshot> = {}): Partial<Snapshot> {
  return { key: null, jwtUserId: userId, ...overrides };
}

const show = (snapshot: Partial<Snapshot>, model: RequestFacts['model'] = 'model1', withPolicy: Policy | null = policy): string[] =>
  rateLimitsOf(aSnapshot(snapshot), model, null, null, withPolicy).map((l) => `${l.type}:${l.metric}:${l.limit}@${l.model ?? ''}`);

const targetsOf = (snapshot: Partial<Snapshot>): string[] =>
  rateLimitsOf(aSnapshot(snapshot), 'model1', null, null, policy).map((l) => rateTargetName(l.target));

describe("rate limits: a deployment's default per-key rpm limit for a JWT caller without a key (v3's model_per_key)", () => {
  it('holds a JWT caller to the default rpm of the model it calls, in a model_per_key window of its own (not its tpm: no response feeds that window)', () => {
    expect(show(jwtCaller('alice'))).to.deep.equal(['model_per_key:rpm:200@model1']);
    expect(rateLimitsOf(aSnapshot(jwtCaller('alice')), 'model1', null, null, policy)[0]?.target).to.deep.equal({ kind: 'key', id: 'jwt-user:alice' });
    expect(show({ key: null }), 'a caller without a key that is no JWT caller (the master key, an open proxy: admission does not see them)').to.deep.equal([]);
  });

  it("applies the model's own default, and nothing where no deployment of the model sets one, without a policy or without a model", () => {
    expect(show(jwtCaller('alice'), 'model2')).to.deep.equal(['model_per_key:rpm:20@model2']);
    expect(show(jwtCaller('alice'), 'model1', withoutDefaults)).to.deep.equal([]);
    expect(show(jwtCaller('alice'), 'other')).to.deep.equal([]);
    expect(show(jwtCaller('alice'), 'model1', null)).to.deep.equal([]);
    expect(show(jwtCaller('alice'), null)).to.deep.equal([]);
  });

  it("gives each caller its own window, where LiteLLM's None:<model> is shared: the token's user, else its team, else one for tokens naming neither", () => {
    expect(targetsOf(jwtCaller('alice'))).to.deep.equal(['key:jwt-user%3Aalice']);
    expect(targetsOf(jwtCaller('bob', { team: aTeam({ team_id: 'team-1' }) }))).to.deep.equal(['key:jwt-user%3Abob']);
    expect(targetsOf(jwtCaller(null, { team: aTeam({ team_id: 'team-1' }) }))).to.deep.equal(['key:jwt-team%3Ateam-1']);
    expect(targetsOf(jwtCaller('', { team: aTeam({ team_id: 'team-2' }) })), 'an empty user id names no user').to.deep.equal(['key:jwt-team%3Ateam-2']);
    expect(targetsOf(jwtCaller(null))).to.deep.equal(['key:jwt']);
  });

  it("never reaches a virtual key's window: a key's id is its hex hash, a caller's holds a ':'", () => {
    const window = keylessCallerWindow({ jwtUserId: KEY_HASH, team: null });
    expect(window.id).to.not.equal(KEY_HASH);
    expect(targetsOf(jwtCaller(KEY_HASH))).to.deep.equal([`key:jwt-user%3A${KEY_HASH}`]);
  });

  it("keeps every caller's window key apart from every other's and from a key's, whatever its id holds (URI-encoded)", () => {
    const bucketOf = (snapshot: Partial<Snapshot>): string => {
      const [limit] = rateLimitsOf(aSnapshot(snapshot), 'model1', null, null, policy);
      if (limit === undefined) throw new Error('no limit');
      return rateBucketKey('p:', limit.target, limit.metric, 7, limit.model);
    };
    const callers: Array<[string, Partial<Snapshot>]> = [
      ['user a:b', jwtCaller('a:b')],
      ['user a%3Ab', jwtCaller('a%3Ab')],
      ['user a', jwtCaller('a')],
      ['user jwt-team:a', jwtCaller('jwt-team:a')],
      ['user a:model:model1', jwtCaller('a:model:model1')],
      ['user {a}', jwtCaller('{a}')],
      ['user jwt', jwtCaller('jwt')],
      ['team a', jwtCaller(null, { team: aTeam({ team_id: 'a' }) })],
      ['team a:b', jwtCaller(null, { team: aTeam({ team_id: 'a:b' }) })],
      ['team jwt-user:a', jwtCaller(null, { team: aTeam({ team_id: 'jwt-user:a' }) })],
      ['neither', jwtCaller(null)],
      ['a key', { key: aKey() }],
    ];
    const keys = callers.map(([, snapshot]) => bucketOf(snapshot));
    expect(new Set(keys).size, keys.join('\n')).to.equal(callers.length);
    expect(bucketOf(jwtCaller('a:model:model1'))).to.equal('p:rl:key:jwt-user%3Aa%3Amodel%3Amodel1:model:model1:rpm:7');
    expect(bucketOf(jwtCaller('{a}')), 'no Redis Cluster hash tag from an id').to.not.match(/[{}]/);
  });

  it("gives way to the team's metadata.model_rpm_limit (source 3, which the JWT path copies), even an empty one: the team's own window limits that", () => {
    const team = (metadata: Record<string, unknown>) => aTeam({ team_id: 'team-1', metadata: metadata as never });
    expect(show(jwtCaller('alice', { team: team({ model_rpm_limit: {} }) }))).to.deep.equal([]);
    expect(show(jwtCaller('alice', { team: team({ model_rpm_limit: { model1: 7 } }) }))).to.deep.equal(['model_per_team:rpm:7@model1']);
    expect(show(jwtCaller('alice', { team: team({ model_rpm_limit: null }) })), 'a null is no source').to.deep.equal(['model_per_key:rpm:200@model1']);
    expect(show(jwtCaller('alice', { team: team({ model_tpm_limit: { model1: 9 } }) })), 'a tpm map ends only the tpm lookup').to.deep.equal([
      'model_per_key:rpm:200@model1',
      'model_per_team:tpm:9@model1',
    ]);
  });

  it('limits each model of a request naming several, and one whose model was not read by every default', () => {
    expect(show(jwtCaller('alice'), ['model2', 'other', 'model1'])).to.deep.equal(['model_per_key:rpm:20@model2', 'model_per_key:rpm:200@model1']);
    expect(show(jwtCaller('alice'), UNREAD_MODEL)).to.deep.equal(['model_per_key:rpm:200@model1', 'model_per_key:rpm:20@model2']);
  });

  it('leaves a virtual key as it was: its hash names the window, and the tpm default applies too', () => {
    expect(show({ key: aKey(), jwtUserId: 'alice' }), 'a JWT mapped to a key is that key').to.deep.equal(['model_per_key:rpm:200@model1', 'model_per_key:tpm:1000@model1']);
    expect(show({ key: aKey() })).to.deep.equal(['model_per_key:rpm:200@model1', 'model_per_key:tpm:1000@model1']);
    expect(targetsOf({ key: aKey() })).to.deep.equal([`key:${KEY_HASH}`, `key:${KEY_HASH}`]);
    expect(show(jwtCaller('alice')), 'beside a JWT caller of the same model').to.deep.equal(['model_per_key:rpm:200@model1']);
  });
});
