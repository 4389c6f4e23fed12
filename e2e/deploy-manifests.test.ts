/**
 * The deploy files as a user applies them, checked without a cluster: the Kubernetes
 * overlay is built the way `kubectl apply -k` builds it (resources, components, patches,
 * images, namespace, secretGenerator), every object is validated against the Kubernetes
 * (and KEDA) schemas of kubernetes-models, and the parts that must agree do: probes name
 * declared ports, selectors match their pods, every setting is one an app reads, and the
 * grace period outlasts the worker's shutdown deadline.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { repoRoot } from '@registry-triggers/testing';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { apiEnvSchema } from '../apps/api/src/env.js';
import { logsEnvSchema } from '../apps/logs/src/env.js';
import { workerEnvSchema } from '../apps/worker/src/env.js';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked by the schemas below
type Manifest = any;

const kubernetesDir = join(repoRoot, 'deploy/kubernetes');

const models: Record<string, new (data: Manifest) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Namespace': Namespace,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

function readYaml(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
    return document.toJS();
  });
}

/** Values of an env file, with a sample value for an empty one (as a user fills tokens.env). */
function readEnvFile(file: string): Record<string, string> {
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const [name, ...value] = line.split('=');
      return [name!.trim(), value.join('=') || `sample-${name!.toLowerCase()}-0123456789`] as const;
    });
  return Object.fromEntries(entries);
}

function mergePatch(target: Manifest, patch: Manifest): Manifest {
  if (typeof target !== 'object' || target === null || Array.isArray(target)) return patch;
  const merged = { ...target };
  for (const [key, value] of Object.entries(patch as object)) merged[key] = mergePatch(target[key], value);
  return merged;
}

/** A small `kustomize build`: only the features the files here use, failing on any other. */
function kustomizeBuild(dir: string, secretEnvFile?: (file: string) => string): Manifest[] {
  const kustomization = parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
  const known = [
    'apiVersion',
    'kind',
    'resources',
    'components',
    'images',
    'patches',
    'namespace',
    'secretGenerator',
    'labels',
  ];
  const unknown = Object.keys(kustomization).filter((key) => !known.includes(key));
  expect(unknown, `${dir}/kustomization.yaml uses fields this check does not build`).toEqual([]);
  let objects: Manifest[] = [];
  for (const entry of [...(kustomization.resources ?? []), ...(kustomization.components ?? [])]) {
    const path = join(dir, entry);
    objects.push(...(entry.endsWith('.yaml') ? readYaml(path) : kustomizeBuild(path, secretEnvFile)));
  }
  for (const { pairs } of kustomization.labels ?? []) {
    for (const object of objects) object.metadata.labels = { ...object.metadata.labels, ...pairs };
  }
  for (const { path } of kustomization.patches ?? []) {
    for (const patch of readYaml(join(dir, path))) {
      const index = objects.findIndex(
        (object) => object.kind === patch.kind && object.metadata.name === patch.metadata.name,
      );
      expect(index, `${path} patches ${patch.kind}/${patch.metadata.name}, which the base lacks`).not.toBe(
        -1,
      );
      objects[index] = mergePatch(objects[index], patch);
    }
  }
  for (const generator of kustomization.secretGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const file of generator.envs ?? []) {
      for (const [name, value] of Object.entries(readEnvFile(join(dir, secretEnvFile?.(file) ?? file))))
        data[name] = Buffer.from(value).toString('base64');
    }
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: generator.name },
      type: 'Opaque',
      data,
    });
  }
  for (const image of kustomization.images ?? []) {
    objects = objects.map((object) => {
      if (object.kind !== 'Deployment') return object;
      for (const container of object.spec.template.spec.containers) {
        // kustomize matches the name whatever tag the image has so far.
        if (container.image.split(':')[0] === image.name)
          container.image = `${image.newName ?? image.name}:${image.newTag ?? 'latest'}`;
      }
      return object;
    });
  }
  if (kustomization.namespace) {
    for (const object of objects)
      if (object.kind !== 'Namespace') object.metadata.namespace = kustomization.namespace;
  }
  return objects;
}

// The user copies tokens.env.example to tokens.env; the check builds from the example.
const overlay = kustomizeBuild(join(kubernetesDir, 'overlays/example'), (file) => `${file}.example`);
const find = (kind: string, name: string) =>
  overlay.find((object) => object.kind === kind && object.metadata.name === name);
const deployments = overlay.filter((object) => object.kind === 'Deployment');

describe('the Kubernetes manifests', () => {
  it('build into valid objects of the Kubernetes and KEDA schemas', () => {
    expect(overlay.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'ConfigMap/registry-triggers-settings',
      'Deployment/registry-triggers-api',
      'Deployment/registry-triggers-logs',
      'Deployment/registry-triggers-worker',
      'Namespace/registry-triggers',
      'PodDisruptionBudget/registry-triggers-api',
      'PodDisruptionBudget/registry-triggers-logs',
      'PodDisruptionBudget/registry-triggers-worker',
      'ScaledObject/registry-triggers-worker',
      'Secret/registry-triggers-tokens',
      'Service/registry-triggers-api',
      'Service/registry-triggers-logs',
      'Service/registry-triggers-worker',
    ]);
    for (const object of overlay) {
      const Model = models[`${object.apiVersion}/${object.kind}`];
      expect(Model, `no schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new Model!(object).validate(), `${object.kind}/${object.metadata.name}`).not.toThrow();
    }
  });

  it('the schemas do refuse a broken manifest (the check checks)', () => {
    const broken = structuredClone(find('Deployment', 'registry-triggers-worker'));
    broken.spec.replicas = '2';
    expect(() => new Deployment(broken).validate()).toThrow(/replicas must be integer/);
    const scaled = structuredClone(find('ScaledObject', 'registry-triggers-worker'));
    scaled.spec.triggers[0].metadata.threshold = 500;
    expect(() => new ScaledObject(scaled).validate()).toThrow(/threshold must be string/);
  });

  it('runs each app from the overlay image with probes on a declared port, resources and a non-root user', () => {
    expect(deployments.map((d) => d.spec.template.spec.containers[0].args)).toEqual([
      ['api'],
      ['worker'],
      ['logs'],
    ]);
    for (const deployment of deployments) {
      const pod = deployment.spec.template;
      for (const [label, value] of Object.entries(deployment.spec.selector.matchLabels))
        expect(pod.metadata.labels[label]).toBe(value);
      const [container] = pod.spec.containers;
      expect(container.image).toBe('registry.example.com/registry-triggers:0.1.0');
      const ports = container.ports.map((port: Manifest) => port.name);
      expect(ports).toContain(container.readinessProbe.httpGet.port);
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(ports).toContain(container.livenessProbe.httpGet.port);
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.resources.requests.cpu).toBeTruthy();
      expect(container.resources.requests.memory).toBeTruthy();
      expect(container.securityContext.runAsNonRoot).toBe(true);
      expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(container.ports[0].containerPort));
    }
  });

  it('gives in-flight deliveries longer than the worker shutdown deadline', () => {
    const settings = find('ConfigMap', 'registry-triggers-settings').data;
    const worker = find('Deployment', 'registry-triggers-worker').spec.template.spec;
    const deadlineSeconds = Number(settings.SHUTDOWN_DEADLINE_MS) / 1000;
    const attemptSeconds = 10; // DELIVERY_TIMEOUT_MS default
    expect(worker.terminationGracePeriodSeconds).toBeGreaterThan(deadlineSeconds + attemptSeconds);
  });

  it('holds only settings that an app reads, the tokens in the Secret the pods name', () => {
    const readByApps = new Set([
      ...Object.keys(apiEnvSchema.shape),
      ...Object.keys(workerEnvSchema.shape),
      ...Object.keys(logsEnvSchema.shape),
    ]);
    const settings = find('ConfigMap', 'registry-triggers-settings').data;
    expect(Object.keys(settings).filter((name) => !readByApps.has(name))).toEqual([]);
    expect(settings.REDIS_URL).toMatch(/^rediss?:\/\//);
    const secret = find('Secret', 'registry-triggers-tokens');
    expect(Object.keys(secret.data).sort()).toEqual(['ADMIN_TOKEN', 'INGEST_TOKEN']);
    for (const deployment of deployments) {
      const [container] = deployment.spec.template.spec.containers;
      expect(container.envFrom).toEqual([{ configMapRef: { name: 'registry-triggers-settings' } }]);
      for (const variable of container.env.filter((env: Manifest) => env.valueFrom)) {
        expect(variable.valueFrom.secretKeyRef.name).toBe('registry-triggers-tokens');
        expect(Object.keys(secret.data)).toContain(variable.valueFrom.secretKeyRef.key);
      }
    }
  });

  it('has a disruption budget and a service for every app, matching its pods', () => {
    for (const deployment of deployments) {
      const labels = deployment.spec.template.metadata.labels;
      const matches = (selector: Record<string, string>) =>
        Object.entries(selector).every(([label, value]) => labels[label] === value);
      const name = deployment.metadata.name;
      expect(matches(find('PodDisruptionBudget', name).spec.selector.matchLabels)).toBe(true);
      expect(matches(find('Service', name).spec.selector)).toBe(true);
    }
  });

  it('scales the worker Deployment on the waiting deliveries the api reports', () => {
    const scaled = find('ScaledObject', 'registry-triggers-worker').spec;
    expect(find('Deployment', scaled.scaleTargetRef.name)).toBeDefined();
    expect(scaled.minReplicaCount).toBeGreaterThanOrEqual(1);
    const [trigger] = scaled.triggers;
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metadata.query).toContain('queue_backlog_jobs{queue="deliveries", state="waiting"}');
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true });

  it('runs Redis with AOF and noeviction, and every app with a health check and a restart policy', () => {
    const redis = compose.services.redis.command.join(' ');
    expect(redis).toContain('--appendonly yes');
    expect(redis).toContain('--maxmemory-policy noeviction');
    for (const app of ['api', 'worker', 'logs']) {
      const service = compose.services[app];
      expect(service.command).toEqual([app]);
      expect(service.restart).toBe('unless-stopped');
      expect(service.healthcheck.test).toEqual(['CMD', 'node', 'deploy/docker/healthcheck.mjs']);
    }
    // `docker compose up --scale worker=4` needs a worker with no fixed host port or name.
    expect(compose.services.worker.ports).toBeUndefined();
    expect(compose.services.worker.container_name).toBeUndefined();
  });
});

describe('the Dockerfile', () => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  it('builds a non-root image with a health check whose command picks the app', () => {
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toMatch(/\nUSER node\n/);
    expect(final).toMatch(/\nHEALTHCHECK /);
    expect(final).toMatch(/\nENTRYPOINT \["\/app\/deploy\/docker\/entrypoint.sh"\]\n/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    const entrypoint = readFileSync(join(repoRoot, 'deploy/docker/entrypoint.sh'), 'utf8');
    expect(entrypoint).toContain('exec node --enable-source-maps "apps/$app/dist/main.js"');
  });
});
