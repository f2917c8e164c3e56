import { expect } from 'chai';
import { ConfigError, parseLiteLlmConfig } from '../../src/config/litellm-config';
import { settingsFrom } from '../../src/config/settings';

describe('tollgate.alerting settings (budget alerts)', () => {
  const settingsOf = (yaml: string, env: NodeJS.ProcessEnv = {}) => settingsFrom(parseLiteLlmConfig(yaml, env), env).alerting;

  it('defaults: log only, one alert per entity per hour, 5 s webhook timeout, 1000 queued alerts', () => {
    expect(settingsFrom({}, {}).alerting).to.deep.equal({ webhookUrl: null, dedupeSeconds: 3600, timeoutMs: 5000, queueSize: 1000 });
  });

  it('reads webhook_url, dedupe_seconds, timeout_ms and queue_size', () => {
    expect(
      settingsOf('tollgate:\n  alerting:\n    webhook_url: https://hooks.example.com/x\n    dedupe_seconds: 60\n    timeout_ms: 250\n    queue_size: 10\n'),
    ).to.deep.equal({ webhookUrl: 'https://hooks.example.com/x', dedupeSeconds: 60, timeoutMs: 250, queueSize: 10 });
  });

  it('takes the webhook URL from the environment with os.environ/NAME (an unset variable means no webhook)', () => {
    const yaml = 'tollgate:\n  alerting:\n    webhook_url: os.environ/ALERT_HOOK\n';
    expect(settingsOf(yaml, { ALERT_HOOK: 'http://127.0.0.1:9/h' }).webhookUrl).to.equal('http://127.0.0.1:9/h');
    expect(settingsOf(yaml).webhookUrl).to.equal(null);
  });

  it('refuses a webhook URL that is not http(s), naming the key', () => {
    expect(() => parseLiteLlmConfig('tollgate:\n  alerting:\n    webhook_url: ftp://x/y\n', {})).to.throw(ConfigError, /tollgate\.alerting\.webhook_url/);
    expect(() => parseLiteLlmConfig('tollgate:\n  alerting:\n    dedupe_seconds: -1\n', {})).to.throw(ConfigError, /tollgate\.alerting\.dedupe_seconds/);
  });
});
