/**
 * The `tollgate` command: serve, migrate, check, and the management commands that set up
 * a tenant without SQL. Exit codes: 0 success/allowed, 1 denied or failed, 2 bad usage.
 */
import 'reflect-metadata';
import cluster from 'node:cluster';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadSettings, type Settings } from '../config/settings';
import { createLogger } from '../observability/logger';
import { dialAddress } from './dial-address';
import { registerAdminCommands } from './admin-commands';
import { AdminInputError } from '../store/admin-inputs';

// Commands load what they need when they run: `tollgate key create` should not pay for the
// server's telemetry stack, nor `tollgate check` for TypeORM.
const loadServe = () => import('../server/serve');
const loadWorkers = () => import('../server/workers');
const loadCheck = () => import('./check-command');
const loadMigrate = () => import('./migrate-command');

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(settings: () => Settings, exit: (code: number) => void): Command {
  const program = new Command('tollgate')
    .description('Envoy ext_authz service enforcing LiteLLM virtual keys, teams and budgets')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('serve')
    .description('run the ext_authz gRPC server (Authorization/Check + grpc.health.v1.Health)')
    .addOption(new Option('--workers <n>', 'worker processes sharing the gRPC port (one per core)').default('1').argParser(positiveInt))
    .action(async (options: { workers: string | number }) => {
      const s = settings();
      const logger = createLogger(s.logLevel);
      const workers = Number(options.workers);
      // Workers re-run this same command line; only the cluster primary fans out.
      if (workers > 1 && cluster.isPrimary) {
        exit(await (await loadWorkers()).runPrimary(workers, logger, s.httpAddr));
        return;
      }
      (await loadWorkers()).stopWithPrimary();
      exit(await (await loadServe()).serve(s, logger));
    });

  program
    .command('migrate')
    .description('create or upgrade the LiteLLM tables, then exit')
    .action(async () => {
      exit(await (await loadMigrate()).runMigrate(settings()));
    });

  program
    .command('check')
    .description('send one Envoy-shaped CheckRequest to a running server and print the decision')
    .option('--key <key>', 'virtual key or master key, sent as Authorization: Bearer <key>')
    .option('--method <method>', 'HTTP method', 'POST')
    .option('--path <path>', 'request path', '/v1/chat/completions')
    .option('--header <name=value>', 'extra request header (repeatable)', collect, [])
    .option('--body <json>', 'request body (JSON)')
    .option('--model <model>', 'shorthand for --body {"model": <model>, "messages": [...]}')
    .option('--addr <host:port>', 'server address (default: TOLLGATE_GRPC_ADDR)')
    .addOption(new Option('--timeout-ms <ms>', 'call deadline, like Envoy’s ext_authz timeout').default('2000'))
    .action(
      async (options: {
        key?: string;
        method: string;
        path: string;
        header: string[];
        body?: string;
        model?: string;
        addr?: string;
        timeoutMs: string;
      }) => {
        const body =
          options.body ??
          (options.model !== undefined
            ? JSON.stringify({ model: options.model, messages: [{ role: 'user', content: 'hello' }] })
            : undefined);
        const result = await (await loadCheck()).runCheck({
          address: options.addr ?? dialAddress(settings().grpcAddr),
          key: options.key,
          method: options.method,
          path: options.path,
          headers: options.header,
          body,
          timeoutMs: Number(options.timeoutMs),
        });
        console.log(result.text);
        exit(result.allowed ? 0 : 1);
      },
    );

  registerAdminCommands(program, settings, exit);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  let cached: Settings | null = null;
  const settings = (): Settings => (cached ??= loadSettings());
  const program = buildProgram(settings, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    // An option value the management commands' parsers refuse (`--max-budget lots`): bad usage, as
    // the same value refused by the store is.
    if (error instanceof AdminInputError) {
      console.error(`tollgate: ${error.message}`);
      return 2;
    }
    console.error(`tollgate: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  return code;
}
