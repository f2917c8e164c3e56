/**
 * End to end: the real server at LOG_LEVEL=debug, with console span export on, gets requests
 * carrying every kind of secret. Its logs name each decision with the request id and the key
 * hash, and no raw secret appears anywhere in stdout or stderr.
 */
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import { connect, requireBuild, type Checker } from '../support/e2e';
import { anEnvoyCheck, chat } from '../support/envoy-requests';
import { startServer, type LogLine, type ServerProcess } from '../support/server-process';
import { seededSqlite, type SeededStore } from './support/seeded-sqlite';

const VIRTUAL_KEY = 'sk-e2e-redact-virtual-0123456789';
const BLOCKED_KEY = 'sk-e2e-redact-blocked-0123456789';
const MASTER_KEY = 'sk-e2e-redact-master-0123456789';
const UNKNOWN_KEY = 'sk-e2e-redact-unknown-0123456789';
const JWT = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyZWRhY3Rpb24tdGVzdCJ9.c2lnbmF0dXJlLXJlZGFjdGlvbi10ZXN0';
const BODY_SECRET = 'sk-e2e-redact-body-api-key-0123456789';
const PROMPT = 'the-confidential-prompt-text';

describe('logs and exported spans never carry secrets', function () {
  this.timeout(120_000);
  let seeded: SeededStore;
  let server: ServerProcess;
  let client: Checker;
  let output = '';

  before(async () => {
    requireBuild();
    seeded = await seededSqlite([VIRTUAL_KEY], [BLOCKED_KEY]);
    server = await startServer({
      env: { ...seeded.env, LOG_LEVEL: 'debug', LITELLM_MASTER_KEY: MASTER_KEY, OTEL_TRACES_EXPORTER: 'console' },
      startupTimeoutMs: 60_000, // a loaded CI machine can take that long to start Node
    });
    client = connect(server.address);
    const send = (id: string, options: Parameters<typeof anEnvoyCheck>[0]): Promise<unknown> =>
      client.check(anEnvoyCheck({ ...options, headers: { 'x-request-id': id, ...options?.headers } }));
    await send('req-virtual', { key: VIRTUAL_KEY, body: chat('gpt-4o', { messages: [{ role: 'user', content: PROMPT }] }) });
    await send('req-blocked', { key: BLOCKED_KEY, body: chat('gpt-4o') });
    await send('req-master', { key: MASTER_KEY, body: chat('gpt-4o') });
    await send('req-jwt', { key: JWT, body: chat('gpt-4o') });
    await send('req-body-key', { key: VIRTUAL_KEY, body: chat('gpt-4o', { api_key: BODY_SECRET }) });
    await send('req-header-key', { headers: { 'x-litellm-api-key': UNKNOWN_KEY }, body: chat('gpt-4o') });
    client.close();
    // Stopping flushes the queued spans to stdout, so they are part of what is scanned.
    expect(await server.stop()).to.equal(0);
    output = server.output();
  });

  after(() => seeded?.cleanup());

  const decisionLine = (requestId: string): LogLine => {
    const line = server.logs.find((l) => l.requestId === requestId && (l.msg === 'allowed' || l.msg === 'denied'));
    if (line === undefined) throw new Error(`no decision logged for ${requestId}`);
    return line;
  };

  it('logs every denial with the request id, the decision, the error type and the key hash', () => {
    const blocked = decisionLine('req-blocked');
    expect(blocked).to.include({ msg: 'denied', decision: 'deny', errorType: 'auth_error', keyHash: hashKey(BLOCKED_KEY) });
    expect(decisionLine('req-jwt')).to.include({ decision: 'deny', keyHash: hashKey(JWT) });
  });

  it('logs allowed requests at debug with the request id and the key hash', () => {
    expect(decisionLine('req-virtual')).to.include({ msg: 'allowed', decision: 'allow', level: 20, keyHash: hashKey(VIRTUAL_KEY) });
  });

  it('exported the spans of those requests (console exporter) with key hashes only', () => {
    expect(output).to.include('envoy.service.auth.v3.Authorization/Check');
    expect(output).to.include(hashKey(VIRTUAL_KEY));
  });

  for (const [what, secret] of [
    ['a virtual key', VIRTUAL_KEY],
    ['a blocked virtual key', BLOCKED_KEY],
    ['the master key', MASTER_KEY],
    ['a JWT-looking bearer token', JWT],
    ['an api_key field of the body', BODY_SECRET],
    ['a key in x-litellm-api-key', UNKNOWN_KEY],
    ['the prompt', PROMPT],
  ] as const) {
    it(`never prints ${what}`, () => {
      expect(output.length).to.be.greaterThan(0);
      expect(output).not.to.include(secret);
    });
  }
});
