/**
 * The test-owned Redis Cluster's ports: a node listens on its port and on that port + 10000 (the
 * cluster bus), and a node either of whose ports cannot be had never starts.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { spareClusterPorts } from './redis-cluster';
import { redisServerInstalled } from './own-redis';

const run = promisify(execFile);

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('test support: ports of a Redis Cluster of the test\'s own', () => {
  it('skips a port whose bus port would pass 65535, be taken, or be another node\'s port', async () => {
    const offered = [60_000, 55_536, 30_000, 30_000, 40_000, 31_000, 50_000, 32_000];
    const busy = new Set([41_000]);
    const ports = await spareClusterPorts(
      3,
      () => Promise.resolve(offered.shift() ?? 0),
      (port) => Promise.resolve(!busy.has(port)),
    );
    // 60000 and 55536: no bus port; the second 30000: taken; 40000: 30000's bus port; 31000: bus port busy.
    expect(ports).to.deep.equal([30_000, 50_000, 32_000]);
  });

  it('gives up, rather than loop, when no port will do', async () => {
    await spareClusterPorts(1, () => Promise.resolve(60_000)).then(
      () => expect.fail('found a port'),
      (error: Error) => expect(error.message).to.include('no 1 spare ports'),
    );
  });

  it('finds ports whose bus ports are free on this machine', async () => {
    const ports = await spareClusterPorts(6);
    expect(new Set([...ports, ...ports.map((port) => port + 10_000)]).size).to.equal(12);
    for (const port of ports) expect(port + 10_000).to.be.at.most(65_535);
  });

  it('leaves no node running when the process exits without cleanup (a before hook that timed out, then --exit)', async function () {
    this.timeout(60_000);
    if (!redisServerInstalled()) this.skip();
    const script = `require(${JSON.stringify(join(__dirname, 'redis-cluster'))}).ownRedisCluster({ skip() {} })
      .then((cluster) => { console.log(JSON.stringify(cluster.ports)); process.exit(0); })`;
    const { stdout } = await run(process.execPath, ['-r', 'tsx/cjs', '-e', script], { timeout: 50_000 });
    const ports = JSON.parse(stdout) as number[];
    expect(ports).to.have.length(3);
    for (const port of ports) expect(await answers(port), `node on ${port}`).to.equal(false);
  });
});
