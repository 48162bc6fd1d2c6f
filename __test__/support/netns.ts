/**
 * Test hosts for the TUN tests: a network namespace this process creates
 * (and always removes), with the Linux kernel inside it as tunstack's peer.
 * All traffic stays inside the namespace.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

/** True when this process may create TUN devices and namespaces. */
export function canUseTun(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  if (!existsSync('/dev/net/tun')) return false;
  return spawnSync('ip', ['netns', 'list']).status === 0;
}

/** Result of a finished command. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with a hard time bound (it is killed after). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: Buffer } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.end(opts.input ?? Buffer.alloc(0));
  });
}

/** A namespace named after this process; `remove()` is safe to call twice. */
export class Netns {
  readonly name: string;
  private removed = false;

  private constructor(name: string) {
    this.name = name;
  }

  /** Creates a fresh namespace with its loopback up. */
  static create(tag: string): Netns {
    const name = `tstk-${tag}-${process.pid}`;
    spawnSync('ip', ['netns', 'delete', name]);
    const r = spawnSync('ip', ['netns', 'add', name]);
    if (r.status !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`);
    spawnSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    const ns = new Netns(name);
    // Even if the test process dies on an exception, the namespace goes away.
    process.once('exit', () => ns.remove());
    return ns;
  }

  /** Runs a command inside the namespace. */
  exec(args: string[], opts: { timeoutMs?: number; input?: Buffer } = {}): Promise<Run> {
    return run('ip', ['netns', 'exec', this.name, ...args], opts);
  }

  /** Starts a long-running command inside the namespace. */
  spawn(args: string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** Deletes the namespace (and with it every interface moved into it). */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    spawnSync('ip', ['netns', 'delete', this.name]);
  }
}

/** Resolves with the first stdout line matching `re`, or rejects after `timeoutMs`. */
export function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let errBuf = '';
    const timer = setTimeout(() => finish(new Error(`no line matching ${re} within ${timeoutMs} ms; stderr: ${errBuf}`)), timeoutMs);
    const onData = (b: Buffer) => {
      buf += b.toString();
      // Complete lines only: an unbuffered writer (python3 -u) sends a
      // line in several writes, so a chunk can end mid-line.
      for (const line of buf.split('\n').slice(0, -1)) {
        if (re.test(line)) return finish(undefined, line);
      }
    };
    const onErr = (b: Buffer) => {
      errBuf += b.toString();
    };
    const onExit = (code: number | null) => finish(new Error(`exited with ${code} before ready; stderr: ${errBuf}`));
    function finish(e?: Error, line?: string) {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      if (e) reject(e);
      else resolve(line as string);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onErr);
    child.on('exit', onExit);
  });
}

/** Resolves with the exit code, or kills the child and rejects after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
