import { expect } from 'chai';
import { userScimDeactivated } from '../../src/checks/user-scim';
import type { Json, JsonObject } from '../../src/domain/entities';
import { aKey, aUser, decide } from './fixtures';

describe('SCIM-deactivated users — §2.7 step 4 [newer, chosen deliberately], §10', () => {
  it('denies the key of a user whose metadata.scim_active is false (401 auth_error, param user_id)', () => {
    expect(
      decide(userScimDeactivated, {
        snapshot: { key: aKey({ user_id: 'u-1' }), user: aUser({ user_id: 'u-1', metadata: { scim_active: false } }) },
      }),
    ).to.deep.equal({
      status: 401,
      type: 'auth_error',
      message: 'User=u-1 has been deactivated via SCIM. Keys owned by this user cannot be used.',
      param: 'user_id',
    });
  });

  const passing: ReadonlyArray<[string, Json | undefined]> = [
    ['scim_active absent (never touched by SCIM)', undefined],
    ['scim_active true', true],
    ['scim_active null (only an explicit false deactivates, `is False`)', null],
    ['scim_active "false" as a string', 'false'],
    ['scim_active 0', 0],
  ];
  for (const [why, value] of passing) {
    it(`allows a user with ${why} — §2.7 step 4`, () => {
      const metadata: JsonObject = value === undefined ? {} : { scim_active: value };
      expect(decide(userScimDeactivated, { snapshot: { key: aKey({ user_id: 'u-1' }), user: aUser({ metadata }) } })).to.equal(null);
    });
  }

  it('allows a key without a user row (LiteLLM treats a failed user lookup as no user)', () => {
    expect(decide(userScimDeactivated, { snapshot: { key: aKey({ user_id: 'gone' }), user: null } })).to.equal(null);
  });
});
