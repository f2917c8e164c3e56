import { expect } from 'chai';
import type { AlertSink } from '../../src/alerts/alert-emitter';
import { hashKey } from '../../src/auth/key-hash';
import { Authorizer } from '../../src/authorize/authorize';
import type { BudgetAlert } from '../../src/domain/budget-alert';
import type { RequestFacts } from '../../src/domain/request';
import { NOOP_INSTRUMENTATION, type RequestTelemetry } from '../../src/observability/instrumentation';
import { aBudget, aKey, aPolicy, aRequest, NOW } from '../checks/fixtures';
import { MemoryStore } from '../support/memory-store';

const RAW = 'sk-alerting-key-1234';
const HASH = hashKey(RAW);

function withKey(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return aRequest({ credential: { kind: 'present', value: RAW, header: 'authorization' }, ...overrides });
}

/** Records what reaches the sink and the span. */
function recorders(): { sink: AlertSink; emitted: BudgetAlert[][]; spanEvents: BudgetAlert[]; telemetry: RequestTelemetry } {
  const emitted: BudgetAlert[][] = [];
  const spanEvents: BudgetAlert[] = [];
  const base = NOOP_INSTRUMENTATION.startRequest({});
  return {
    sink: { emit: (alerts) => emitted.push([...alerts]) },
    emitted,
    spanEvents,
    telemetry: { ...base, alert: (event) => spanEvents.push(event) },
  };
}

describe('Authorizer: budget alerts after the decision, never instead of it (issue item 4)', () => {
  it('hands a soft-budget alert of an allowed request to the sink and to the span', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, spend: 6, budget_id: 'kb' }));
    store.budgets.set('kb', aBudget({ budget_id: 'kb', soft_budget: 5 }));
    const { sink, emitted, spanEvents, telemetry } = recorders();
    const outcome = await new Authorizer({ store, policy: aPolicy(), masterKey: 'sk-master-0000', alerts: sink, now: () => NOW }).authorize(withKey(), telemetry);
    expect(outcome.decision.kind).to.equal('allow');
    expect(emitted.map((batch) => batch.map((a) => `${a.event_group}:${a.type}`))).to.deep.equal([['key:soft_budget']]);
    expect(spanEvents.map((a) => a.entity_id)).to.deep.equal([HASH]);
  });

  it('raises the 80 % alert of a denied request when the refusal comes later in LiteLLM’s order', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, spend: 9, max_budget: 10, metadata: { allowed_tools: ['ls'] } }));
    const { sink, emitted, telemetry } = recorders();
    const request = withKey({ body: { model: 'gpt-4o', tools: [{ type: 'function', function: { name: 'rm' } }] } });
    const outcome = await new Authorizer({ store, policy: aPolicy(), masterKey: 'sk-master-0000', alerts: sink, now: () => NOW }).authorize(request, telemetry);
    expect(outcome.refusedBy).to.equal('tool_allowlist');
    expect(emitted.flat().map((a) => a.type)).to.deep.equal(['max_budget_alert']);
  });

  it('raises nothing when the request is refused before the alert’s place (a blocked key)', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, spend: 9, max_budget: 10, blocked: true }));
    const { sink, emitted, spanEvents, telemetry } = recorders();
    const outcome = await new Authorizer({ store, policy: aPolicy(), masterKey: 'sk-master-0000', alerts: sink, now: () => NOW }).authorize(withKey(), telemetry);
    expect(outcome.refusedBy).to.equal('key_blocked');
    expect(emitted).to.deep.equal([]);
    expect(spanEvents).to.deep.equal([]);
  });

  it('works without a sink or a telemetry alert hook (both optional)', async () => {
    const store = new MemoryStore();
    store.keys.set(HASH, aKey({ token: HASH, spend: 9, max_budget: 10 }));
    const outcome = await new Authorizer({ store, policy: aPolicy(), masterKey: 'sk-master-0000', now: () => NOW }).authorize(withKey());
    expect(outcome.decision.kind).to.equal('allow');
  });
});
