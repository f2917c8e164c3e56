import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { loadSettings } from '../../src/config/settings';
import type { ProcessingRequest, ProcessingResponse } from '../../src/metering/ext-proc-messages';
import { meteringStats } from '../../src/metering/metering-metrics';
import { createMetering } from '../../src/metering/metering-runtime';
import { createLogger } from '../../src/observability/logger';
import { anOpenAiStream, anUpstreamExchange } from '../support/ext-proc';

/** A database that records every transaction asked of it and never writes. */
function aWatchedDatabase(): { dataSource: DataSource; transactions: number } {
  const watched = { transactions: 0, dataSource: undefined as unknown as DataSource };
  watched.dataSource = {
    options: { type: 'mysql' },
    transaction: () => {
      watched.transactions += 1;
      return Promise.reject(new Error('no database in this test'));
    },
  } as unknown as DataSource;
  return watched;
}

/** Plays one ext_proc stream into the handler, as grpc-js would deliver it. */
function playStream(process: ReturnType<typeof createMetering>['process'], messages: readonly ProcessingRequest[]): void {
  const call = Object.assign(new EventEmitter(), { writableEnded: false, write: () => true, end: () => undefined });
  process(call as unknown as ServerDuplexStream<ProcessingRequest, ProcessingResponse>);
  for (const message of messages) call.emit('data', message);
  call.emit('end');
}

describe('metering runtime', () => {
  it('records nothing from an ext_proc stream while tollgate.metering is off (no flusher would ever drain it), and says so', async () => {
    const lines: string[] = [];
    const logger = createLogger('warn', new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
    const metering = createMetering(loadSettings({}), null, logger);
    const database = aWatchedDatabase();
    metering.start(database.dataSource);
    const ignoredBefore = meteringStats.responses.ignored;
    playStream(metering.process, anUpstreamExchange({ requestId: 'req-off', chunks: anOpenAiStream({ prompt: 10, completion: 5 }) }));
    await metering.stop();
    expect(database.transactions).to.equal(0);
    expect(meteringStats.responses.ignored - ignoredBefore, 'counted for tollgate_metered_responses_total').to.equal(1);
    expect(lines.join('')).to.include('tollgate.metering is off').and.not.include('spend not recorded');
  });
});
