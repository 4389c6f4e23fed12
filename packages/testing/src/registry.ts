// The CNCF distribution registry (Debian's docker-registry), with skopeo and umoci, for
// end-to-end tests that push a real image and receive the registry's real notifications.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { spawnTracked, stopChild, type TrackedChild, waitUntilReady } from './child-process.js';
import { trackDir, untrackDir } from './cleanup.js';
import { getFreePort, retryOnAddressInUse } from './free-port.js';
import { httpReadiness } from './http-check.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

export interface DistributionRegistry {
  /** `127.0.0.1:PORT`, as used in image references. */
  readonly url: string;
  readonly port: number;
  /** The registry's log lines so far. */
  output(): string[];
  stop(): Promise<void>;
}

export interface StartDistributionRegistryOptions {
  /** Where the registry posts its notification envelopes. */
  notifyUrl: string;
  /** Sent as `Authorization: Bearer <token>` with every notification. */
  notifyToken: string;
  /** Per-request timeout of a notification; default 1000. */
  notifyTimeoutMs?: number;
}

/** Whether docker-registry, skopeo and umoci are all installed (for `describe.skipIf`). */
export function registryToolsAvailable(): boolean {
  return ['docker-registry', 'skopeo', 'umoci'].every((tool) => findTool(tool) !== undefined);
}

export async function startDistributionRegistry(
  options: StartDistributionRegistryOptions,
): Promise<DistributionRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'rt-registry-'));
  trackDir(dir);
  const remove = async () => {
    await rm(dir, { recursive: true, force: true });
    untrackDir(dir);
  };

  let port: number;
  let running: TrackedChild;
  try {
    ({ port, running } = await retryOnAddressInUse(async () => {
      const port = await getFreePort();
      const configPath = join(dir, 'config.yml');
      await writeFile(configPath, registryConfig(join(dir, 'storage'), port, options));
      const running = await spawnTracked(tool('docker-registry'), ['serve', configPath]);
      const readiness = httpReadiness(`http://${HOST}:${port}/v2/`);
      await waitUntilReady(running, readiness.check, {
        label: `docker-registry on port ${port}`,
        awaiting: readiness.awaiting,
      });
      return { port, running };
    }));
  } catch (error) {
    await remove();
    throw error;
  }

  return {
    url: `${HOST}:${port}`,
    port,
    output: () => running.output(),
    stop: async () => {
      await stopChild(running, { signal: 'SIGTERM', timeoutMs: 5000 });
      await remove();
    },
  };
}

function registryConfig(storageDir: string, port: number, options: StartDistributionRegistryOptions): string {
  // JSON-quoted strings are valid YAML scalars, so no value can break the document.
  const q = (value: string) => JSON.stringify(value);
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(storageDir)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${q(`${HOST}:${port}`)}`,
    `  secret: ${q(randomUUID())}`,
    'notifications:',
    '  endpoints:',
    '    - name: triggers',
    `      url: ${q(options.notifyUrl)}`,
    '      headers:',
    `        Authorization: [${q(`Bearer ${options.notifyToken}`)}]`,
    `      timeout: ${options.notifyTimeoutMs ?? 1000}ms`,
    '      threshold: 5',
    '      backoff: 1s',
    '',
  ].join('\n');
}

/**
 * Builds a one-layer OCI image without any network (umoci) and returns its OCI layout
 * directory, created inside `dir`; the image is tagged `latest`. The layer holds a file
 * with random content, so every image (and every blob) is new to a registry.
 */
export async function buildTinyImage(dir: string): Promise<string> {
  const id = randomUUID();
  const layout = join(dir, `oci-${id}`);
  const bundle = join(dir, `bundle-${id}`);
  const umoci = tool('umoci');
  await mkdir(dir, { recursive: true });
  const options = { timeout: 30_000 };
  await run(umoci, ['init', '--layout', layout], options);
  await run(umoci, ['new', '--image', `${layout}:latest`], options);
  try {
    // --rootless: no root needed, and no attempt to chown files to the image's users.
    await run(umoci, ['unpack', '--rootless', '--image', `${layout}:latest`, bundle], options);
    await writeFile(join(bundle, 'rootfs', 'hello.txt'), `tiny image ${id}\n`);
    await run(umoci, ['repack', '--image', `${layout}:latest`, bundle], options);
  } finally {
    await rm(bundle, { recursive: true, force: true });
  }
  return layout;
}

/**
 * Pushes the `latest` image of an OCI layout to `ref` (`127.0.0.1:PORT/ns/repo:tag`) over
 * plain HTTP and returns the manifest digest the registry stored.
 */
export async function pushImage(ociLayoutDir: string, ref: string): Promise<{ digest: string }> {
  const scratch = await mkdtemp(join(tmpdir(), 'rt-push-'));
  try {
    const digestFile = join(scratch, 'digest');
    // --insecure-policy: no signature policy applies to a throwaway local registry, and
    // a machine without /etc/containers/policy.json would otherwise refuse to copy.
    await run(
      tool('skopeo'),
      [
        '--insecure-policy',
        'copy',
        '--dest-tls-verify=false',
        '--digestfile',
        digestFile,
        `oci:${ociLayoutDir}:latest`,
        `docker://${ref}`,
      ],
      { timeout: 60_000 },
    );
    return { digest: (await readFile(digestFile, 'utf8')).trim() };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function tool(name: string): string {
  const path = findTool(name);
  if (!path) throw new Error(`${name} is not installed (Debian package: ${name})`);
  return path;
}

function findTool(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}
