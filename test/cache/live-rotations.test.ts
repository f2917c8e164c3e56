import { expect } from 'chai';
import { LiveRotations } from '../../src/cache/live-rotations';

const T0 = Date.parse('2026-06-01T00:00:00.000Z');
const FRESH_MS = 5_000;

/** A probe the test answers by hand, counting the times it was asked. */
class ManualProbe {
  asked = 0;
  private pending: Array<{ resolve: (at: Date | null) => void; reject: (error: Error) => void }> = [];

  readonly latestRevokeAt = (): Promise<Date | null> => {
    this.asked += 1;
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  };

  answer(at: Date | null): void {
    this.pending.shift()?.resolve(at);
  }

  fail(): void {
    this.pending.shift()?.reject(new Error('database down'));
  }
}

function aGuard() {
  const probe = new ManualProbe();
  const errors: unknown[] = [];
  let clock = T0;
  const guard = new LiveRotations(probe.latestRevokeAt, FRESH_MS, () => clock, (error) => errors.push(error));
  return {
    probe,
    guard,
    errors,
    advance: (ms: number) => {
      clock += ms;
    },
    /** Lets a settled probe's continuation run. */
    settle: () => new Promise((resolve) => setImmediate(resolve)),
  };
}

describe('LiveRotations: whether a rotated-out key can be in its grace period at all', () => {
  it('assumes rotations live until it has asked, and asks in the background', async () => {
    const { guard, probe, settle } = aGuard();
    expect(guard.mayBeLive()).to.equal(true);
    expect(guard.mayBeLive()).to.equal(true);
    expect(probe.asked, 'one probe for both').to.equal(1);
    probe.answer(null);
    await settle();
    expect(guard.mayBeLive()).to.equal(false);
  });

  it('trusts "none" for the refresh interval from when the probe began, then assumes live and asks again', async () => {
    const { guard, probe, advance, settle } = aGuard();
    guard.mayBeLive();
    advance(100);
    probe.answer(null);
    await settle();
    advance(FRESH_MS - 101);
    expect(guard.mayBeLive()).to.equal(false);
    expect(probe.asked).to.equal(1);
    advance(1);
    expect(guard.mayBeLive(), 'a rotation written behind our back since then would be missed').to.equal(true);
    expect(probe.asked).to.equal(2);
  });

  it('treats a revoke_at that has passed as none, and asks nothing while one is ahead', async () => {
    const { guard, probe, advance, settle } = aGuard();
    guard.mayBeLive();
    probe.answer(new Date(T0 + 1_000));
    await settle();
    advance(999);
    expect(guard.mayBeLive()).to.equal(true);
    advance(1);
    expect(guard.mayBeLive(), 'revoke_at > now, as LiteLLM asks').to.equal(false);
    expect(probe.asked).to.equal(1);

    const live = aGuard();
    live.guard.mayBeLive();
    live.probe.answer(new Date(T0 + 3_600_000));
    await live.settle();
    live.advance(60_000);
    expect(live.guard.mayBeLive()).to.equal(true);
    expect(live.probe.asked, 'a live rotation needs no probe until it ends').to.equal(1);
  });

  it('assumes live after a failed probe, and does not ask again before the interval', async () => {
    const { guard, probe, advance, settle, errors } = aGuard();
    guard.mayBeLive();
    probe.fail();
    await settle();
    expect(errors).to.have.length(1);
    expect(guard.mayBeLive()).to.equal(true);
    advance(FRESH_MS - 1);
    expect(guard.mayBeLive()).to.equal(true);
    expect(probe.asked).to.equal(1);
    advance(1);
    guard.mayBeLive();
    expect(probe.asked).to.equal(2);
  });

  it('forgets "none" at once on reset, and drops the answer of a probe that began before it', async () => {
    const { guard, probe, settle } = aGuard();
    guard.mayBeLive();
    probe.answer(null);
    await settle();
    expect(guard.mayBeLive()).to.equal(false);

    void guard.refresh(); // a probe out when a rotation is announced
    guard.reset();
    expect(guard.mayBeLive(), 'reset: live until asked again').to.equal(true);
    expect(probe.asked, 'a new probe, not the one from before the reset').to.equal(3);
    probe.answer(null); // the probe from before the reset, which may predate the rotation
    await settle();
    expect(guard.mayBeLive()).to.equal(true);
    probe.answer(new Date(T0 + 60_000));
    await settle();
    expect(guard.mayBeLive()).to.equal(true);
    expect(probe.asked).to.equal(3);
  });

  it('asks again when the clock stepped back past the probe', async () => {
    const { guard, probe, advance, settle } = aGuard();
    guard.mayBeLive();
    probe.answer(null);
    await settle();
    advance(-1);
    expect(guard.mayBeLive()).to.equal(true);
    expect(probe.asked).to.equal(2);
  });

  it('assumes live for ever when the latest revoke_at cannot be read', async () => {
    const { guard, probe, advance, settle } = aGuard();
    guard.mayBeLive();
    probe.answer(new Date(Number.NaN));
    await settle();
    advance(3_600_000);
    expect(guard.mayBeLive()).to.equal(true);
  });
});
