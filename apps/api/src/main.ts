import {
  awaitFirstConnection,
  closeServer,
  createLogger,
  listenOrExit,
  ShutdownManager,
} from '@registry-triggers/http-kit';
import { minReplicasFor, replicasBelow } from '@registry-triggers/store';
import { readApiEnv } from './env.js';
import { createApiRuntime } from './runtime.js';
import { startApiTracing } from './tracing.js';

const env = readApiEnv();
const logger = createLogger('api', env.LOG_LEVEL);
const shutdown = new ShutdownManager(logger);
const tracing = await startApiTracing(env);

const { app, redis, closeSteps } = await createApiRuntime({ env, logger, tracer: tracing.tracer });
if (!(await awaitFirstConnection(redis)))
  logger.warn('Redis is not reachable yet: answering 503 until it is');
const ingestReplicas = minReplicasFor(env.INGEST_MIN_REPLICAS, env);
const replicasNow = await replicasBelow(redis, ingestReplicas);
if (replicasNow !== undefined) {
  logger.warn(
    { INGEST_MIN_REPLICAS: ingestReplicas, connectedReplicas: replicasNow },
    'Redis has fewer replicas than INGEST_MIN_REPLICAS: pushes answer 503 not-replicated until enough are attached',
  );
}
const server = await listenOrExit(app, 'API_PORT', env.API_PORT, env.API_HOST);
logger.info({ port: env.API_PORT }, `api listening on http://${env.API_HOST}:${env.API_PORT}`);

shutdown.register('http', () => closeServer(server));
for (const [name, close] of closeSteps) shutdown.register(name, close);
shutdown.register('traces', () => tracing.shutdown());
shutdown.listen();
