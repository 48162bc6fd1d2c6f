/**
 * tunstack: a userspace TCP/IP stack for Node.js. A Rust engine runs over a
 * Linux TUN device or an in-memory link; its sockets look and behave like
 * node:net and node:dgram (node:http runs on them unchanged), and TCP's
 * internals — states, retransmissions, windows, queues — are observable.
 *
 * ```ts
 * import { Stack, MemoryLink } from 'tunstack';
 * const link = new MemoryLink({ loss: 0.01, seed: 1 });
 * const a = await Stack.open({ device: link.a, address: '10.0.0.1/24' });
 * const b = await Stack.open({ device: link.b, address: '10.0.0.2/24' });
 * a.createServer((s) => s.pipe(s)).listen(7);
 * const sock = b.connect({ host: '10.0.0.1', port: 7 }, () => sock.end('hello'));
 * sock.on('data', (d) => console.log(String(d)));
 * ```
 * @module
 */

export { Stack, type CloseOptions } from './stack.js';
export { MemoryLink, LinkEnd, type MemoryLinkOptions } from './memory_link.js';
export { Socket, type SocketOptions, type ConnectOptions, type UrgentMark } from './socket.js';
export { Server, type ServerOptions, type ListenOptions } from './server.js';
export { UdpSocket, type RemoteInfo, type UdpSocketOptions, type BindOptions } from './udp.js';
export { formatNetstat, type NetstatEntry } from './netstat.js';
export type { StackOptions, TunOptions, TcpOptions, ImpairmentOptions, DeviceImpairmentOptions, ImpairmentDirection } from './options.js';
export type { SystemError } from './errors.js';
export type {
  TcpState,
  TcpInfo,
  TcpEvent,
  TcpStateEvent,
  TcpRetransmitEvent,
  TcpResetSentEvent,
  TcpResetReceivedEvent,
  TcpChallengeAckEvent,
  TcpIcmpEvent,
  TcpRecoveryEvent,
  TcpRtoEvent,
  TcpCongestionEvent,
  TcpWindowEvent,
  TcpZeroWindowEvent,
  TcpWindowProbeEvent,
  TcpWindowReopenEvent,
  TcpWindowUpdateEvent,
  CongestionControl,
  TcpListenEvent,
  TcpListenEventBase,
  TcpSynQueuedEvent,
  TcpCookieSentEvent,
  TcpCookieValidatedEvent,
  TcpCookieFailedEvent,
  TcpSynDroppedEvent,
  TcpAcceptOverflowEvent,
  StackTcpEvent,
  SegmentEvent,
  ListenerQueues,
  AddressInfo,
} from './tcp_events.js';
