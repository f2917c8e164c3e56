import { expect } from 'chai';
import { userModelAccess } from '../../src/checks/user-model-access';
import { aKey, aTeam, aUser, decide } from './fixtures';

describe('user model access — §4 step 2.1', () => {
  const personalKey = aKey({ user_id: 'user-1' });

  it("denies a personal key's model outside the user's models (401 user_model_access_denied)", () => {
    expect(decide(userModelAccess, { snapshot: { key: personalKey, user: aUser({ models: ['o1'] }) } })).to.deep.equal({
      status: 401,
      type: 'user_model_access_denied',
      message: "user not allowed to access model. This user can only access models=['o1']. Tried to access gpt-4o",
      param: 'model',
    });
  });

  it('denies every model for a "no-default-models" user with the sic type key_model_access_denied — §12', () => {
    expect(decide(userModelAccess, { snapshot: { key: personalKey, user: aUser({ models: ['no-default-models'] }) } })).to.deep.equal({
      status: 401,
      type: 'key_model_access_denied',
      message: 'User not allowed to access model. No default model access, only team models allowed. Tried to access gpt-4o',
      param: 'model',
    });
  });

  it('prints a model list like Python in the no-default-models message', () => {
    const denial = decide(userModelAccess, {
      request: { model: ['a', 'b'] },
      snapshot: { key: personalKey, user: aUser({ models: ['no-default-models'] }) },
    });
    expect(denial?.message).to.match(/Tried to access \['a', 'b'\]$/);
  });

  it('does not apply to team keys', () => {
    expect(
      decide(userModelAccess, {
        snapshot: { key: aKey({ user_id: 'user-1', team_id: 'team-1' }), team: aTeam(), user: aUser({ models: ['no-default-models'] }) },
      }),
    ).to.equal(null);
  });

  it('allows when the user has no models listed, or there is no user row', () => {
    expect(decide(userModelAccess, { snapshot: { key: personalKey, user: aUser({ models: [] }) } })).to.equal(null);
    expect(decide(userModelAccess, { snapshot: { key: personalKey, user: null } })).to.equal(null);
  });
});
