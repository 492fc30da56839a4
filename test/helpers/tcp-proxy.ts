// A TCP proxy on loopback between a client under test and a real server, for outages the real
// server cannot be put through without harming the other tests of the run: `down` resets every
// connection and refuses new ones (a stopped server), `frozen` accepts but forwards nothing (a
// hung one, or a network that drops packets), `up` forwards again.
import net from 'node:net';

export type ProxyMode = 'up' | 'down' | 'frozen';

export interface TcpProxy {
  /** host:port of the proxy. */
  readonly address: string;
  readonly port: number;
  set(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'up';
  const open = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = net.createServer((client) => {
    track(client);
    if (mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'frozen') return; // held open, never answered
    const upstream = net.connect(target);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    port,
    set(next) {
      mode = next;
      if (next === 'up') {
        for (const socket of open) socket.resume();
        return;
      }
      for (const socket of open) {
        if (next === 'down') socket.resetAndDestroy();
        else socket.pause(); // frozen: bytes stop flowing both ways
      }
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
