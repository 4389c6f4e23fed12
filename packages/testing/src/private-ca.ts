// A private certificate authority made at run time with openssl (nothing secret is committed),
// and receiver certificates it issues: for "a receiver behind a private CA" tests.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivateCa {
  /** PEM certificate of the CA: what a client adds to its trusted roots. */
  cert: string;
  /** Issues a certificate for an IP address (subjectAltName IP:...), signed by this CA. */
  issue(ip: string): Promise<{ key: string; cert: string }>;
}

const openssl = async (args: string[]) => {
  try {
    await run('openssl', args, { timeout: 15_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('openssl is not on PATH: it is needed to make the test CA');
    }
    throw error;
  }
};

export async function createPrivateCa(name = 'registry-triggers test CA'): Promise<PrivateCa> {
  const dir = await mkdtemp(join(tmpdir(), 'rt-ca-'));
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.pem');
  try {
    // biome-ignore format: one flag and its value per line
    await openssl([
      'req', '-x509',
      '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', caKey, '-out', caCert,
      '-days', '2',
      '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const [key, cert] = await Promise.all([readFile(caKey, 'utf8'), readFile(caCert, 'utf8')]);
    return {
      cert,
      async issue(ip) {
        const leafDir = await mkdtemp(join(tmpdir(), 'rt-leaf-'));
        const paths = {
          caKey: join(leafDir, 'ca.key'),
          caCert: join(leafDir, 'ca.pem'),
          key: join(leafDir, 'leaf.key'),
          csr: join(leafDir, 'leaf.csr'),
          cert: join(leafDir, 'leaf.pem'),
          ext: join(leafDir, 'leaf.ext'),
        };
        try {
          await Promise.all([
            writeFile(paths.caKey, key),
            writeFile(paths.caCert, cert),
            writeFile(paths.ext, `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth\n`),
          ]);
          // biome-ignore format: one flag and its value per line
          await openssl([
            'req', '-new',
            '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-keyout', paths.key, '-out', paths.csr,
            '-subj', `/CN=${ip}`,
          ]);
          // biome-ignore format: one flag and its value per line
          await openssl([
            'x509', '-req',
            '-in', paths.csr,
            '-CA', paths.caCert, '-CAkey', paths.caKey, '-CAcreateserial',
            '-out', paths.cert,
            '-days', '2',
            '-extfile', paths.ext,
          ]);
          return { key: await readFile(paths.key, 'utf8'), cert: await readFile(paths.cert, 'utf8') };
        } finally {
          await rm(leafDir, { recursive: true, force: true });
        }
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
