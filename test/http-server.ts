// A real HTTP server on 127.0.0.1 for the download tests: serves files with ETag and Range support,
// and on request misbehaves as networks do (a body cut off after its Content-Length was announced,
// once or always; a status; a redirect). Records every request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  body?: Uint8Array;
  /** Close the connection half-way through the body: on every request, or only the first. */
  cut?: 'always' | 'once';
  status?: number;
  redirect?: string;
}

export interface TestServer {
  readonly url: string;
  readonly requests: { path: string; range: string | null }[];
  readonly routes: Map<string, Route>;
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
}

function serve(routes: Map<string, Route>, requests: TestServer['requests'], req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const range = req.headers.range ?? null;
  requests.push({ path, range });
  const route = routes.get(path);
  if (!route) {
    res.writeHead(404, 'Not Found').end('not found');
    return;
  }
  if (route.redirect) {
    res.writeHead(302, { location: route.redirect }).end();
    return;
  }
  if (route.status) {
    res.writeHead(route.status).end();
    return;
  }
  const body = route.body!;
  const etag = `"${body.length}-${body[body.length >> 1]}"`;
  const m = range && req.headers['if-range'] === etag ? /^bytes=(\d+)-$/.exec(range) : null;
  const start = m ? Number(m[1]) : 0;
  const part = body.subarray(start);
  const headers = { 'content-length': String(part.length), etag, 'accept-ranges': 'bytes' };
  if (m) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
  else res.writeHead(200, headers);
  if (route.cut) {
    if (route.cut === 'once') route.cut = undefined;
    res.write(part.subarray(0, part.length >> 1), () => res.destroy());
    return;
  }
  res.end(part);
}

export async function startTestServer(routes: Record<string, Route>): Promise<TestServer> {
  const table = new Map(Object.entries(routes));
  const requests: TestServer['requests'] = [];
  let server: Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => serve(table, requests, req, res));
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes: table,
    start: listen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
