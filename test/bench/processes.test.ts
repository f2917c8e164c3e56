import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { allocatedBytesOf, ioCallsOf } from '../../bench/processes';

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

  it('reads the bytes V8 allocated from a --trace-gc-nvp line, and nothing from any other line', () => {
    const nvp =
      '[4242:0x6b2e000]     1520 ms: pause=0.9 mutator=12.1 gc=s reduce_memory=0 time_to_safepoint=0.01 heap.prologue=0.00 ' +
      'total_size_before=9437184 holes_size_before=0 allocated=8409568 promoted=52488 new_space_capacity=8388608';
    expect(allocatedBytesOf(nvp)).to.equal(8_409_568);
    expect(allocatedBytesOf('{"level":30,"msg":"listening","allocated=1":2}')).to.equal(null);
    expect(allocatedBytesOf('[4242:0x6b2e000]     1520 ms: Scavenge 8.9 (10.2) -> 8.1 (11.2) MB')).to.equal(null);
  });
});
