/** What the bench asks of one load-client run, and what it reports back. */

/** The load client's line on stdout when its warm-up is over and the measured window starts. */
export const MEASURING_LINE = '{"measuring":true}';

export interface LoadSpec {
  readonly address: string;
  readonly mode: 'closed' | 'open';
  /** Closed loop: calls in flight. */
  readonly concurrency: number;
  /** Open loop: calls per second offered. */
  readonly rate: number;
  /** HTTP/2 connections the calls are spread over. */
  readonly channels: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly deadlineMs: number;
  /** Stop sending after this many calls (0: no limit), e.g. to visit every key once while warming. */
  readonly maxCalls: number;
  /** writeFrames() output: serialized CheckRequests, sent round robin. */
  readonly requestsFile: string;
}

export interface LoadResult {
  readonly sent: number;
  /** Calls answered inside the measured window (errors included). */
  readonly completed: number;
  readonly errors: number;
  /** Answers that were not ok_response (the bench's keys are all meant to be allowed). */
  readonly denied: number;
  readonly elapsedS: number;
  readonly throughput: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
  readonly firstError: string | null;
}
