// A certificate no client trusts, made at run time (nothing secret is committed), for
// "self-signed HTTPS is refused" tests. openssl is on every Debian machine; generating
// one EC key takes a few milliseconds and the result is reused by the whole process.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SelfSignedCertificate {
  /** PEM private key. */
  key: string;
  /** PEM certificate for CN=127.0.0.1, subjectAltName IP:127.0.0.1 and DNS:localhost. */
  cert: string;
}

let cached: Promise<SelfSignedCertificate> | undefined;

export function selfSignedCertificate(): Promise<SelfSignedCertificate> {
  cached ??= generate().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function generate(): Promise<SelfSignedCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'rt-cert-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    // biome-ignore format: one flag and its value per line
    await run('openssl', [
      'req', '-x509',
      '-newkey', 'ec',
      '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout', keyPath,
      '-out', certPath,
      '-days', '2',
      '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { timeout: 15_000 });
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('openssl is not on PATH: it is needed to make the self-signed certificate');
    }
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
