import {
  awaitFirstConnection,
  closeServer,
  createLogger,
  createMetricsRegistry,
  listenOrExit,
  redisMetrics,
  ShutdownManager,
} from '@registry-triggers/http-kit';
import { createRedis } from '@registry-triggers/store';
import { createLogsApp } from './app.js';
import { readLogsEnv } from './env.js';

const env = readLogsEnv();
const logger = createLogger('logs', env.LOG_LEVEL);
const shutdown = new ShutdownManager(logger);

const redis = createRedis(env, {
  role: 'fail-fast',
  commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
  name: 'logs',
});
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis error'));

const metrics = createMetricsRegistry('logs');
redisMetrics(metrics, redis);
const app = createLogsApp({
  adminToken: env.ADMIN_TOKEN,
  ingestToken: env.INGEST_TOKEN,
  redis,
  blockingConnection: () => {
    const connection = createRedis(env, { role: 'worker', name: 'logs-tail' });
    // The shared connection already warns of an outage; one line per open stream would repeat it.
    connection.on('error', (error) => logger.debug({ err: error.message }, 'redis error (live tail)'));
    return connection;
  },
  maxStreams: env.LOGS_MAX_STREAMS,
  apiUrl: env.CONSOLE_API_URL === undefined ? undefined : new URL(env.CONSOLE_API_URL),
  apiTimeoutMs: env.CONSOLE_API_TIMEOUT_MS,
  maxStreamsPerNamespace: env.LOGS_MAX_STREAMS_PER_NAMESPACE,
  streamBufferBytes: env.LOGS_STREAM_BUFFER_BYTES,
  logger,
  metrics,
});
if (!(await awaitFirstConnection(redis)))
  logger.warn('Redis is not reachable yet: answering 503 until it is');
const server = await listenOrExit(app, 'LOGS_PORT', env.LOGS_PORT, env.LOGS_HOST);
logger.info({ port: env.LOGS_PORT }, `logs listening on http://${env.LOGS_HOST}:${env.LOGS_PORT}`);

shutdown.register('live streams', () => app.closeStreams());
shutdown.register('http', () => closeServer(server));
shutdown.register('api connections', () => app.closeApiConnections());
shutdown.register('redis', () => redis.quit());
shutdown.listen();
