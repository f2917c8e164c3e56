import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ioCallsOf } from '../../bench/processes';

describe('bench process counters', () => {
  it('counts read and write system calls from /proc/<pid>/io', () => {
    const io = 'rchar: 5120\nwchar: 2048\nsyscr: 31\nsyscw: 12\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n';
    expect(ioCallsOf(io)).to.equal(43);
  });

  it('reads a live process’s counters, which grow as it reads', function () {
    let before: string;
    try {
      before = readFileSync('/proc/self/io', 'utf8');
    } catch {
      this.skip(); // not Linux, or /proc/<pid>/io not readable here
    }
    readFileSync('/proc/self/io', 'utf8');
    const after = readFileSync('/proc/self/io', 'utf8');
    // The two reads of the file between are read system calls of this process.
    expect(ioCallsOf(after) - ioCallsOf(before)).to.be.at.least(2);
  });
});
