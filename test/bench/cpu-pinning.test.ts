import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { allCpus, benchPinning, onCpu, pinningDescription, setAffinity, tasksetAvailable } from '../../bench/cpu-pinning';

function allowedCpus(pid: number | 'self'): string {
  return /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
}

describe('bench CPU pinning (BENCH_PIN)', () => {
  it('pins nothing unless asked', () => {
    expect(benchPinning({}, 2, true, true)).to.equal(null);
    expect(benchPinning({ BENCH_PIN: '0' }, 2, true, true)).to.equal(null);
    expect(benchPinning({ BENCH_PIN: '' }, 1, false, false)).to.equal(null);
  });

  it('puts the servers on the last CPU and h2load on the first', () => {
    expect(benchPinning({ BENCH_PIN: '1' }, 2, true, true)).to.deep.equal({ serverCpu: 1, loadCpu: 0 });
    expect(benchPinning({ BENCH_PIN: '1' }, 8, true, true)).to.deep.equal({ serverCpu: 7, loadCpu: 0 });
  });

  it('refuses, with the reason, what it cannot do rather than measuring unpinned', () => {
    expect(() => benchPinning({ BENCH_PIN: '1' }, 1, true, true)).to.throw(/two CPUs/);
    expect(() => benchPinning({ BENCH_PIN: '1' }, 2, false, true)).to.throw(/taskset/);
    expect(() => benchPinning({ BENCH_PIN: '1' }, 2, true, false)).to.throw(/h2load/);
    expect(() => benchPinning({ BENCH_PIN: 'yes' }, 2, true, true)).to.throw(/1 or 0/);
  });

  it('leaves a command as it is without a CPU, and runs it through taskset with one', () => {
    expect(onCpu(null, 'h2load', ['-c', '4'])).to.deep.equal({ command: 'h2load', args: ['-c', '4'] });
    expect(onCpu(0, 'h2load', ['-c', '4'])).to.deep.equal({ command: 'taskset', args: ['--cpu-list', '0', 'h2load', '-c', '4'] });
    expect(allCpus(1)).to.equal('0');
    expect(allCpus(2)).to.equal('0-1');
  });

  it('says in the report whether the run was pinned', () => {
    expect(pinningDescription(null)).to.match(/not pinned/);
    expect(pinningDescription({ serverCpu: 1, loadCpu: 0 })).to.match(/server on CPU 1, h2load on CPU 0/);
  });

  describe('on this machine', function () {
    before(function () {
      if (!tasksetAvailable() || cpus().length < 2) this.skip();
    });

    it('runs a command on the one CPU asked for', () => {
      const run = onCpu(1, 'grep', ['Cpus_allowed_list', '/proc/self/status']);
      expect(execFileSync(run.command, run.args, { encoding: 'utf8' })).to.match(/Cpus_allowed_list:\s*1\s*$/);
    });

    it('binds a running process to one CPU and gives it every CPU back', async () => {
      const child = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        const pid = child.pid as number;
        setAffinity(pid, '0');
        expect(allowedCpus(pid)).to.equal('0');
        setAffinity(pid, allCpus(cpus().length));
        expect(allowedCpus(pid)).to.equal(allowedCpus('self'));
      } finally {
        child.kill();
        await once(child, 'exit');
      }
    });
  });
});
