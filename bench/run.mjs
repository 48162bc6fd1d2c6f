// `npm run bench`: every figure next to its reference, measured in this run.
//  1. Engine only: two tunstack engines in one process vs kernel loopback (Rust).
//  1b. Congestion control: cwnd/ssthresh of Reno and CUBIC over time under
//     loss, two engines on virtual time, plotted to bench/out/cwnd.svg.
//  2. One-connection bulk over TUN (needs root and /dev/net/tun): the same Node
//     program (bench/bulk.mjs) on tunstack over a TUN device vs on node:net
//     over a veth pair, the Linux kernel as the peer inside a namespace this
//     script creates and removes. Both directions, >= 1 GiB each.
//     The TUN uses segmentation/checksum offload (64 KiB segments); with
//     --no-offload-too a second stack on a plain TUN (tun.offload: false,
//     1500-byte packets) is measured in the same run for comparison.
// Options: --bytes N (default 1 GiB), --json (one JSON object at the end),
// --tun-only (skip the engine-only and congestion parts), --no-offload-too.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sink, source } from './bulk.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const bytesArg = argv.indexOf('--bytes');
const BYTES = bytesArg >= 0 ? Number(argv[bytesArg + 1]) : 1 << 30;
const results = {};
const gbps = (r) => (r.bytes * 8) / r.secs / 1e9;

const tunOnly = argv.includes('--tun-only');
const noOffloadToo = argv.includes('--no-offload-too');

// 1. Engine only.
if (!tunOnly) {
console.log('== engine only (no JS, no TUN): two engines in one process vs kernel loopback');
execFileSync('cargo', ['build', '--release', '--quiet', '-p', 'tunstack-bench'], { cwd: root, stdio: 'inherit' });
const engineOut = execFileSync(path.join(root, 'target/release/tunstack-bench'), [String(BYTES), '--json'], { encoding: 'utf8' });
results.engine = JSON.parse(engineOut);
console.log(`  two tunstack engines : ${results.engine.engine_gbps.toFixed(2)} Gbit/s`);
console.log(`  kernel loopback      : ${results.engine.kernel_loopback_gbps.toFixed(2)} Gbit/s`);
console.log(`  ratio                : ${results.engine.ratio.toFixed(3)}`);

// 1b. Congestion control: cwnd/ssthresh over virtual time, Reno and CUBIC.
console.log('== congestion control: cwnd and ssthresh over time, 1% loss, 20 ms one-way delay (virtual time)');
execFileSync('cargo', ['build', '--release', '--quiet', '-p', 'tunstack-bench', '--bin', 'cwnd_trace'], { cwd: root, stdio: 'inherit' });
const svgPath = path.join(root, 'bench/out/cwnd.svg');
const traceOut = execFileSync(path.join(root, 'target/release/cwnd_trace'), [svgPath], { encoding: 'utf8' }).trim().split('\n');
for (const line of traceOut.slice(0, -1)) console.log(`  ${line}`);
console.log(`  plot: ${svgPath}`);
results.cwndTrace = svgPath;
}

// 2. TUN vs veth.
const canTun = process.getuid?.() === 0 && existsSync('/dev/net/tun') && spawnSync('ip', ['netns', 'list']).status === 0;
if (!canTun) {
  console.log('== TUN bulk: skipped (needs root and /dev/net/tun)');
} else {
  const { Stack } = await import(path.join(root, 'dist/esm/index.js'));
  const ns = `tstk-bench-${process.pid}`;
  const sh = (...a) => execFileSync('ip', a, { stdio: 'pipe' });
  const cleanup = () => spawnSync('ip', ['netns', 'delete', ns]);
  process.once('exit', cleanup);
  cleanup();
  sh('netns', 'add', ns);
  let stack;
  let plain;
  try {
    sh('-n', ns, 'link', 'set', 'lo', 'up');
    const veth = `tvb${process.pid % 100000}`;
    sh('link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`);
    sh('link', 'set', `${veth}p`, 'netns', ns);
    sh('addr', 'add', '10.9.0.1/24', 'dev', veth);
    sh('link', 'set', veth, 'up');
    sh('-n', ns, 'addr', 'add', '10.9.0.2/24', 'dev', `${veth}p`);
    sh('-n', ns, 'link', 'set', `${veth}p`, 'up');
    stack = await Stack.open({
      tun: { name: `tbt${process.pid % 100000}`, netns: ns, hostAddress: '10.8.0.1/24' },
      address: '10.8.0.2/24',
      tcp: { sendBuffer: 4 << 20, recvBuffer: 4 << 20 },
    });
    if (noOffloadToo) {
      plain = await Stack.open({
        tun: { name: `tbp${process.pid % 100000}`, netns: ns, hostAddress: '10.10.0.1/24', offload: false },
        address: '10.10.0.2/24',
        tcp: { sendBuffer: 4 << 20, recvBuffer: 4 << 20 },
      });
    }

    // The kernel-side half runs node:net inside the namespace.
    const kernelSide = (role, host, port) => {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, path.join(root, 'bench/bulk.mjs'), role,
        '--host', host, '--port', String(port), '--bytes', String(BYTES)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const lines = [];
      let buf = '';
      const waiters = [];
      child.stdout.on('data', (b) => {
        buf += b;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
          waiters.splice(0).forEach((w) => w());
        }
      });
      const next = (pred) => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${role}: no result within 300 s`)), 300_000);
        const check = () => {
          const hit = lines.find(pred);
          if (hit) { clearTimeout(timer); resolve(hit); } else waiters.push(check);
        };
        check();
      });
      return { child, next };
    };

    const measure = async (label, app, appHost, kernelHost, port) => {
      // kernel -> app: the app sinks, the kernel-side program sources.
      const down = sink(app, { host: appHost, port, bytes: BYTES });
      const k1 = kernelSide('source', appHost, port);
      const rx = await down;
      await k1.next((l) => l.role === 'source');
      // app -> kernel: the kernel-side program sinks.
      const k2 = kernelSide('sink', '0.0.0.0', port + 1);
      await k2.next((l) => l.listening);
      await source(app, { host: kernelHost, port: port + 1, bytes: BYTES });
      const tx = await k2.next((l) => l.role === 'sink');
      results[label] = { kernelToApp: gbps(rx), appToKernel: gbps(tx) };
      return results[label];
    };

    console.log(`== one-connection bulk, ${BYTES >> 20} MiB each way, the Linux kernel as the peer`);
    const ref = await measure('nodeNetVeth', net, '10.9.0.1', '10.9.0.2', 6001);
    const tun = await measure('tunstackTun', stack, '10.8.0.2', '10.8.0.1', 7001);
    const off = plain && await measure('tunstackTunNoOffload', plain, '10.10.0.2', '10.10.0.1', 8001);
    const row = (name, r) => console.log(`  ${name.padEnd(28)} kernel->app ${r.kernelToApp.toFixed(2).padStart(7)} Gbit/s   app->kernel ${r.appToKernel.toFixed(2).padStart(7)} Gbit/s`);
    row('node:net over veth', ref);
    row('tunstack over TUN', tun);
    if (off) {
      row('tunstack, TUN offload off', off);
      results.ratioNoOffload = { kernelToApp: off.kernelToApp / ref.kernelToApp, appToKernel: off.appToKernel / ref.appToKernel };
      console.log(`  ratio (offload off) / node:net kernel->app ${results.ratioNoOffload.kernelToApp.toFixed(3).padStart(5)}          app->kernel ${results.ratioNoOffload.appToKernel.toFixed(3).padStart(7)}`);
    }
    results.ratio = { kernelToApp: tun.kernelToApp / ref.kernelToApp, appToKernel: tun.appToKernel / ref.appToKernel };
    console.log(`  ratio tunstack / node:net    kernel->app ${results.ratio.kernelToApp.toFixed(3).padStart(7)}          app->kernel ${results.ratio.appToKernel.toFixed(3).padStart(7)}`);
  } finally {
    await stack?.close();
    await plain?.close();
    cleanup();
  }
}
if (argv.includes('--json')) console.log(JSON.stringify(results));
