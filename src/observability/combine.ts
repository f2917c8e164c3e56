/**
 * Fans one request's telemetry out to several implementations (metrics and traces), so the
 * request path still makes one call per hook. With a single implementation it is returned
 * as is: no wrapper cost when tracing is off.
 */
import { NOOP_INSTRUMENTATION, type Instrumentation, type Phase, type RequestTelemetry } from './instrumentation';

function nestPhases<T>(requests: readonly RequestTelemetry[], index: number, name: Phase, work: () => T): T {
  const request = requests[index];
  return request === undefined ? work() : request.phase(name, () => nestPhases(requests, index + 1, name, work));
}

export function combineInstrumentation(list: readonly Instrumentation[]): Instrumentation {
  if (list.length === 0) return NOOP_INSTRUMENTATION;
  if (list.length === 1) return list[0] as Instrumentation;
  return {
    startRequest(carrier) {
      const requests = list.map((instrumentation) => instrumentation.startRequest(carrier));
      return {
        phase: (name, work) => nestPhases(requests, 0, name, work),
        observesPhases: requests.some((request) => request.observesPhases),
        checkEvaluated(name, refused) {
          for (const request of requests) request.checkEvaluated(name, refused);
        },
        decided(decision, refusedBy) {
          for (const request of requests) request.decided(decision, refusedBy);
        },
        undecided(reason) {
          for (const request of requests) request.undecided(reason);
        },
        alert(event) {
          for (const request of requests) request.alert?.(event);
        },
        traceIds() {
          for (const request of requests) {
            const ids = request.traceIds?.();
            if (ids !== undefined) return ids;
          }
          return undefined;
        },
      };
    },
  };
}
