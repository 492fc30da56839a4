// Raw HTTP over a socket, for requests no well-behaved client sends: bodies cut short, lying
// Content-Length headers, connections dropped mid-body. Answers the status line the server
// sent, or null when it closed the connection without a response.
import net from 'node:net';

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** Written as is after the headers. */
  readonly body: Buffer | string;
  /**
   * After the body: keep the socket open for the answer (the default, as real clients do),
   * end our half (Node's server then aborts a request still reading its body), or destroy it.
   */
  readonly then?: 'wait' | 'end' | 'destroy';
}

export interface RawResponse {
  readonly status: number | null;
  readonly head: string;
  readonly body: string;
}

const TIMEOUT_MS = 15_000;

export function sendRaw(url: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${TIMEOUT_MS} ms to ${request.method} ${request.path}`));
    }, TIMEOUT_MS);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(received).toString('latin1');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      resolve({ status: status ? Number(status) : null, head, body });
    };
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('end', () => socket.end());
    socket.on('close', finish);
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      const head = [
        `${request.method} ${request.path} HTTP/1.1`,
        `Host: ${hostname}:${port}`,
        'Connection: close',
        ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`),
      ].join('\r\n');
      socket.write(`${head}\r\n\r\n`);
      socket.write(request.body);
      if (request.then === 'destroy') {
        setTimeout(() => socket.destroy(), 50);
        return;
      }
      if (request.then === 'end') socket.end();
    });
  });
}
