/**
 * `netstat`/`ss`-like listing of a stack's sockets.
 * @module
 */

import type { TcpState } from './tcp_events.js';

/** One socket of {@link Stack.netstat}, like a line of `ss -tuan`. */
export interface NetstatEntry {
  /** `'tcp'` or `'udp'`. */
  proto: 'tcp' | 'udp';
  /** Local address (`0.0.0.0` = any of ours). */
  localAddress: string;
  /** Local port. */
  localPort: number;
  /** Remote address (`0.0.0.0` for listeners and UDP sockets). */
  remoteAddress: string;
  /** Remote port (0 for listeners and UDP sockets). */
  remotePort: number;
  /** TCP state (UDP sockets report `CLOSED`). */
  state: TcpState;
  /** Bytes received and not yet read (for a listener: connections in the accept queue). */
  recvQ: number;
  /** Bytes not yet acknowledged by the peer (for a listener: the backlog). */
  sendQ: number;
}

/**
 * Renders entries as a table in the style of `ss -tuan`.
 * @param entries - rows from {@link Stack.netstat}
 * @returns the table, one line per entry after a header line, newline-terminated
 */
export function formatNetstat(entries: readonly NetstatEntry[]): string {
  const rows = entries.map((e) => [
    e.proto,
    e.state,
    String(e.recvQ),
    String(e.sendQ),
    `${e.localAddress}:${e.localPort === 0 && e.proto === 'udp' ? '*' : e.localPort}`,
    e.remotePort === 0 ? `${e.remoteAddress}:*` : `${e.remoteAddress}:${e.remotePort}`,
  ]);
  const header = ['Netid', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
