import { expect } from 'chai';
import { decodesToJsonContainer, getEndUserId } from '../../src/envoy/end-user';
import { parseLiteLlmConfig, ConfigError } from '../../src/config/litellm-config';
import { settingsFrom } from '../../src/config/settings';
import { edgeSettings } from './fixtures';

/** Claude Code's `metadata.user_id`, as LiteLLM's tests write it. */
const BLOB = '{"device_id":"d5abe9199ee7759a","account_uuid":"","session_id":"c284b8cb-a050-4278-8599-cc4e016a10ab"}';

describe('validate_end_user_id_in_db: JSON-shaped end user ids', () => {
  const on = edgeSettings({ dropJsonEndUserIds: true });
  const off = edgeSettings();

  it('keeps a JSON object or array string as the id with the setting off', () => {
    expect(getEndUserId({}, { user: BLOB }, off)).to.equal(BLOB);
    expect(getEndUserId({}, { user: '["a","b"]' }, off)).to.equal('["a","b"]');
  });

  it('drops it with the setting on, and reads the next source', () => {
    expect(getEndUserId({}, { user: BLOB }, on)).to.equal(null);
    expect(getEndUserId({}, { user: '["a","b"]' }, on)).to.equal(null);
    expect(getEndUserId({}, { user: BLOB, litellm_metadata: { user: 'alice@example.com' } }, on)).to.equal('alice@example.com');
    expect(getEndUserId({}, { metadata: { user_id: BLOB }, safety_identifier: 'sid-1' }, on)).to.equal('sid-1');
  });

  it('drops it from a header too, which then gives way to the body', () => {
    expect(getEndUserId({ 'x-litellm-customer-id': BLOB }, { user: 'bob' }, on)).to.equal('bob');
    expect(getEndUserId({ 'x-litellm-customer-id': BLOB }, { user: 'bob' }, off)).to.equal(BLOB);
  });

  it('reads as Python json.loads does: a container after stripping, NaN and Infinity allowed', () => {
    expect(decodesToJsonContainer('{}')).to.equal(true);
    expect(decodesToJsonContainer('[NaN, -Infinity]')).to.equal(true);
    expect(decodesToJsonContainer('{"NaN": "Infinity"}')).to.equal(true);
    expect(getEndUserId({}, { user: '  {"a": 1}  ' }, on)).to.equal(null);
  });

  it('keeps what only looks like JSON, and JSON that is no container', () => {
    expect(getEndUserId({}, { user: '{not json' }, on)).to.equal('{not json');
    expect(getEndUserId({}, { user: '"quoted"' }, on)).to.equal('"quoted"');
    expect(getEndUserId({}, { user: '[1, 2' }, on)).to.equal('[1, 2');
    expect(getEndUserId({}, { user: 'x{"a":1}' }, on)).to.equal('x{"a":1}');
    expect(decodesToJsonContainer('{"a": NaNx}')).to.equal(false);
  });

  it("keeps ids Python's json.loads refuses where a constant is glued to a number or a sign", () => {
    // Each is no JSON for Python (json.JSONDecodeError): not dropped, so the database decides.
    for (const id of ['[1NaN]', '[-NaN]', '[0.NaN]', '[1Infinity\n]', '[--Infinity]', '[1e5NaN]', '[ "[NaN",1Infinity]']) {
      expect(decodesToJsonContainer(id), id).to.equal(false);
      expect(getEndUserId({}, { user: id }, on), id).to.equal(id.trim());
    }
    for (const id of ['[ NaN ]', '[1,NaN]', '{"a" : -Infinity}', '[\nInfinity\n]']) expect(decodesToJsonContainer(id), id).to.equal(true);
  });

  describe('configuration', () => {
    it('is off by default and on with litellm_settings.validate_end_user_id_in_db: true', () => {
      const defaults = settingsFrom(parseLiteLlmConfig('', {}), {});
      expect(defaults.policy.validateEndUserIdInDb).to.equal(false);
      expect(defaults.credentials.dropJsonEndUserIds).to.equal(false);
      const on = settingsFrom(parseLiteLlmConfig('litellm_settings:\n  validate_end_user_id_in_db: true\n', {}), {});
      expect(on.policy.validateEndUserIdInDb).to.equal(true);
      expect(on.credentials.dropJsonEndUserIds).to.equal(true);
    });

    it('reads os.environ/ references as LiteLLM does, and refuses a value that is no boolean by name', () => {
      const fromEnv = settingsFrom(parseLiteLlmConfig('litellm_settings:\n  validate_end_user_id_in_db: os.environ/VALIDATE\n', { VALIDATE: 'True' }), {});
      expect(fromEnv.policy.validateEndUserIdInDb).to.equal(true);
      expect(() => parseLiteLlmConfig('litellm_settings:\n  validate_end_user_id_in_db: "yes"\n', {})).to.throw(ConfigError, /validate_end_user_id_in_db/);
    });
  });
});
