// A redis-server of the test's own (Debian's redis-server, installed by scripts/setup.sh) on
// 127.0.0.1 at a free port, no persistence, in a temporary folder; stopped by stop(). With `tls`,
// it listens for TLS only, with a server certificate for 127.0.0.1 signed by a throwaway CA made
// with openssl in that folder (`ca` is the CA's PEM file, for NODE_EXTRA_CA_CERTS).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export interface RedisServer {
  readonly port: number;
  /** the CA certificate (PEM file) of a TLS server */
  readonly ca?: string;
  stop(): Promise<void>;
}

/** A CA and a server certificate for 127.0.0.1 signed by it (EC P-256, valid 2 days), in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const [ca, caKey, cert, key, csr, ext] = ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'server.csr', 'ext.cnf'].map((f) => join(dir, f));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=resnet50 test CA');
  openssl('req', ...ec, '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext);
  return { ca, cert, key };
}

export async function startRedis(password?: string, o: { tls?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const certs = o.tls ? makeCertificates(dir) : null;
  const listen = certs
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(password ? ['--requirepass', password] : [])];
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; !(await accepts(port)); i++) {
    if (i > 100 || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port} (is it installed? scripts/setup.sh installs it)`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    ...(certs ? { ca: certs.ca } : {}),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
