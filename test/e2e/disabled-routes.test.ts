/**
 * End to end: LiteLLM's split deployment, an admin instance (`DISABLE_LLM_API_ENDPOINTS=true`) and
 * a data-plane worker (`DISABLE_ADMIN_ENDPOINTS=true`), each behind its own `tollgate serve`, on the
 * embedded store: each refuses the other's routes whoever calls, master key included, and the admin
 * instance still lists models. A value LiteLLM would not read as true or false stops the start.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { hashKey } from '../../src/auth/key-hash';
import type { CheckResponse } from '../../src/envoy/messages';
import { createDataSource, type DatabaseSettings } from '../../src/store/data-source';
import { runMigrations } from '../../src/store/migrations';
import { connect, requireBuild, type Checker } from '../support/e2e';
import { anEnvoyCheck, chat, denialOf, isAllowed } from '../support/envoy-requests';
import { LiteLlmRows, uniqueId } from '../support/litellm-rows';
import { SQLITE_BACKEND } from '../support/e2e-backends';
import { BIN, startServer, type ServerProcess } from '../support/server-process';

const MASTER_KEY = 'sk-master-disabled-routes-0123';
const KEY = `sk-disabled-routes-${uniqueId('k')}`;

async function seedKey(settings: DatabaseSettings): Promise<void> {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
    await new LiteLlmRows(dataSource).aKey({ token: hashKey(KEY) });
  } finally {
    await dataSource.destroy();
  }
}

interface Instance {
  readonly server: ServerProcess;
  readonly client: Checker;
  readonly cleanup: () => Promise<void>;
}

async function startInstance(ctx: Mocha.Context, disable: Record<string, string>): Promise<Instance> {
  const opened = await SQLITE_BACKEND.open(ctx);
  await seedKey(opened.settings);
  const server = await startServer({ env: { ...opened.env, LITELLM_MASTER_KEY: MASTER_KEY, ...disable } });
  return { server, client: connect(server.address), cleanup: opened.cleanup };
}

async function stopInstance(instance: Instance | undefined): Promise<number | null | undefined> {
  if (instance === undefined) return undefined;
  instance.client.close();
  const code = await instance.server.stop();
  await instance.cleanup();
  return code;
}

function refusal(response: CheckResponse): { grpcCode: number; httpStatus: unknown; type: string; message: string; param: string | null; code: string } {
  const { grpcCode, httpStatus, type, message, param, code } = denialOf(response);
  return { grpcCode, httpStatus, type, message, param, code };
}

const FORBIDDEN = { grpcCode: 7, httpStatus: 'Forbidden', type: 'auth_error', param: 'None', code: '403' };
const MANAGEMENT_DISABLED = { ...FORBIDDEN, message: 'Management routes are disabled for this instance.' };
const LLM_API_DISABLED = { ...FORBIDDEN, message: 'LLM API routes are disabled for this instance.' };

describe('DISABLE_ADMIN_ENDPOINTS / DISABLE_LLM_API_ENDPOINTS end to end (split admin and worker instances)', function () {
  this.timeout(60_000);
  let admin: Instance | undefined;
  let worker: Instance | undefined;

  before(async function () {
    requireBuild();
    [admin, worker] = await Promise.all([
      startInstance(this, { DISABLE_LLM_API_ENDPOINTS: 'true' }),
      startInstance(this, { DISABLE_ADMIN_ENDPOINTS: 'True' }),
    ]);
  });

  after(async () => {
    const codes = await Promise.all([stopInstance(admin), stopInstance(worker)]);
    expect(codes, 'exit codes after SIGTERM').to.deep.equal([0, 0]);
  });

  it('the worker refuses management routes with 403, to the master key and to a virtual key alike', async () => {
    const client = worker!.client;
    const asMaster = await client.check(anEnvoyCheck({ key: MASTER_KEY, path: '/key/generate', body: { models: ['gpt-4o'] } }));
    expect(refusal(asMaster)).to.deep.equal(MANAGEMENT_DISABLED);
    const asKey = await client.check(anEnvoyCheck({ key: KEY, method: 'GET', path: `/key/info?key=${KEY}` }));
    expect(refusal(asKey)).to.deep.equal(MANAGEMENT_DISABLED);
    const mcpServers = await client.check(anEnvoyCheck({ key: MASTER_KEY, method: 'GET', path: '/v1/mcp/server/abc-123' }));
    expect(refusal(mcpServers)).to.deep.equal(MANAGEMENT_DISABLED);
  });

  it('the worker still serves the LLM API', async () => {
    const client = worker!.client;
    expect(isAllowed(await client.check(anEnvoyCheck({ key: KEY, body: chat('gpt-4o') })))).to.equal(true);
    expect(isAllowed(await client.check(anEnvoyCheck({ key: KEY, path: '/mcp/tools/call', body: { name: 'echo' } })))).to.equal(true);
  });

  it('the admin instance refuses LLM API routes with 403, to the master key and to a virtual key alike', async () => {
    const client = admin!.client;
    expect(refusal(await client.check(anEnvoyCheck({ key: KEY, body: chat('gpt-4o') })))).to.deep.equal(LLM_API_DISABLED);
    expect(refusal(await client.check(anEnvoyCheck({ key: MASTER_KEY, path: '/v1/embeddings', body: { model: 'gpt-4o', input: 'x' } })))).to.deep.equal(
      LLM_API_DISABLED,
    );
    expect(refusal(await client.check(anEnvoyCheck({ key: KEY, path: '/mcp/tools/call', body: { name: 'echo' } })))).to.deep.equal(LLM_API_DISABLED);
    // Starlette serves a path ending in %0A as the route without the newline. LiteLLM's route RBAC
    // refuses it to a virtual key, as no LLM API route; the master key passes that.
    const newline = await client.check(anEnvoyCheck({ key: MASTER_KEY, path: '/v1/chat/completions%0A', body: chat('gpt-4o') }));
    expect(refusal(newline)).to.deep.equal(LLM_API_DISABLED);
  });

  it('the admin instance still lists models (/models, /v1/models) and serves management routes, MCP server CRUD included', async () => {
    const client = admin!.client;
    expect(isAllowed(await client.check(anEnvoyCheck({ key: KEY, method: 'GET', path: '/v1/models' })))).to.equal(true);
    expect(isAllowed(await client.check(anEnvoyCheck({ key: KEY, method: 'GET', path: '/models' })))).to.equal(true);
    expect(isAllowed(await client.check(anEnvoyCheck({ key: MASTER_KEY, path: '/key/generate', body: { models: ['gpt-4o'] } })))).to.equal(true);
    expect(isAllowed(await client.check(anEnvoyCheck({ key: MASTER_KEY, method: 'GET', path: '/v1/mcp/server' })))).to.equal(true);
  });

  it('refuses to start on a value that is neither true nor false, naming the variable', async () => {
    const run = promisify(execFile);
    const failure = await run(process.execPath, [BIN, 'serve'], {
      env: { PATH: process.env.PATH ?? '', TOLLGATE_GRPC_ADDR: '127.0.0.1:0', TOLLGATE_HTTP_ADDR: '127.0.0.1:0', TOLLGATE_SQLITE_PATH: '/nonexistent/never-created.db', DISABLE_ADMIN_ENDPOINTS: 'yes' },
      timeout: 20_000,
    }).then(
      () => null,
      (error: unknown) => error as { code?: number; stdout?: string; stderr?: string },
    );
    expect(failure, 'tollgate serve exited 0').to.not.equal(null);
    expect(failure?.code).to.be.a('number').and.not.equal(0);
    expect(`${failure?.stdout ?? ''}${failure?.stderr ?? ''}`).to.include("DISABLE_ADMIN_ENDPOINTS: must be true or false (got 'yes'");
  });
});
