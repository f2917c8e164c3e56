import { expect } from 'chai';
import { disabledRoutesFrom } from '../../src/config/disabled-routes';
import { ConfigError } from '../../src/config/litellm-config';
import { settingsFrom } from '../../src/config/settings';

describe('DISABLE_ADMIN_ENDPOINTS and DISABLE_LLM_API_ENDPOINTS, read as get_secret_bool reads them', () => {
  it('disables nothing when neither is set', () => {
    expect(disabledRoutesFrom({})).to.deep.equal({ management: false, llmApi: false });
  });

  it('reads true and false whatever their case, around whitespace (str_to_bool strips and lower-cases)', () => {
    expect(disabledRoutesFrom({ DISABLE_ADMIN_ENDPOINTS: 'true' })).to.deep.equal({ management: true, llmApi: false });
    expect(disabledRoutesFrom({ DISABLE_LLM_API_ENDPOINTS: ' True\n' })).to.deep.equal({ management: false, llmApi: true });
    expect(disabledRoutesFrom({ DISABLE_ADMIN_ENDPOINTS: 'TRUE', DISABLE_LLM_API_ENDPOINTS: 'tRuE' })).to.deep.equal({ management: true, llmApi: true });
    expect(disabledRoutesFrom({ DISABLE_ADMIN_ENDPOINTS: 'False', DISABLE_LLM_API_ENDPOINTS: 'false' })).to.deep.equal({ management: false, llmApi: false });
  });

  it("strips the whitespace Python's str.strip strips, not JavaScript's trim", () => {
    // U+001F and U+0085 are whitespace to Python (so LiteLLM reads "true"), not to trim().
    expect(disabledRoutesFrom({ DISABLE_ADMIN_ENDPOINTS: '\u001ftrue\u0085' })).to.deep.equal({ management: true, llmApi: false });
    // U+FEFF is not whitespace to Python: LiteLLM reads neither true nor false, and leaves the routes open.
    // The refusal shows the BOM, which would otherwise print as nothing ("got 'true'").
    expect(() => disabledRoutesFrom({ DISABLE_LLM_API_ENDPOINTS: '\ufefftrue' })).to.throw(ConfigError, "DISABLE_LLM_API_ENDPOINTS: must be true or false (got '\\ufefftrue'");
  });

  it('reads an empty value as unset (LiteLLM: not disabled)', () => {
    expect(disabledRoutesFrom({ DISABLE_ADMIN_ENDPOINTS: '', DISABLE_LLM_API_ENDPOINTS: '  ' })).to.deep.equal({ management: false, llmApi: false });
  });

  it('refuses to start on any other text, naming the variable (LiteLLM would silently leave the routes open)', () => {
    for (const text of ['1', 'yes', 'on', 'ture', '"true"']) {
      expect(() => disabledRoutesFrom({ DISABLE_ADMIN_ENDPOINTS: text }), text).to.throw(ConfigError, `DISABLE_ADMIN_ENDPOINTS: must be true or false (got '${text}'`);
    }
    expect(() => disabledRoutesFrom({ DISABLE_LLM_API_ENDPOINTS: '0' })).to.throw(ConfigError, 'DISABLE_LLM_API_ENDPOINTS');
  });

  it('puts them in the policy the checks read, beside the YAML settings', () => {
    const settings = settingsFrom({ general_settings: { allowed_routes: ['/chat/completions'] } }, { DISABLE_LLM_API_ENDPOINTS: 'true' });
    expect(settings.policy.disabledRoutes).to.deep.equal({ management: false, llmApi: true });
    expect(settings.policy.allowedRoutes).to.deep.equal(['/chat/completions']);
    // Without Redis the policy is rewritten (no throttling): the setting must survive it.
    expect(settingsFrom({}, { DISABLE_ADMIN_ENDPOINTS: 'true' }).policy.disabledRoutes).to.deep.equal({ management: true, llmApi: false });
    expect(settingsFrom({}, { DISABLE_ADMIN_ENDPOINTS: 'true', REDIS_URL: 'redis://r:6379' }).policy.disabledRoutes).to.deep.equal({ management: true, llmApi: false });
    expect(() => settingsFrom({}, { DISABLE_ADMIN_ENDPOINTS: 'yes' })).to.throw(ConfigError, 'DISABLE_ADMIN_ENDPOINTS');
  });
});
