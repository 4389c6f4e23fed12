export { cleanupNow } from './cleanup.js';
export { getFreePort, getFreePorts, retryOnAddressInUse } from './free-port.js';
export { resolveRef, type Schema, unknownKeywords, validate } from './json-schema.js';
export { createPrivateCa, type PrivateCa } from './private-ca.js';
export {
  type AppName,
  type AppProcess,
  metricsPortOf,
  type ReadinessOptions,
  repoRoot,
  type StartAppOnFreePortOptions,
  type StartAppOptions,
  type StartProcessOptions,
  startApp,
  startAppOnFreePort,
  startProcess,
} from './processes.js';
export {
  type HttpsReceiver,
  type ReceivedRequest,
  type Receiver,
  type ReceiverHandler,
  type ReceiverOptions,
  type ReceiverResponse,
  startHttpsReceiver,
  startReceiver,
} from './receiver.js';
export {
  type ClusterHandle,
  type ClusterNode,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './redis-cluster.js';
export { redisCommand, redisInfo } from './redis-command.js';
export { attachReplica } from './redis-replica.js';
export {
  containerRuntimeAvailable,
  type RedisHandle,
  type RedisKind,
  type StartRedisOptions,
  startRedis,
} from './redis-server.js';
export {
  buildTinyImage,
  type DistributionRegistry,
  pushImage,
  registryToolsAvailable,
  type StartDistributionRegistryOptions,
  startDistributionRegistry,
} from './registry.js';
export { type SelfSignedCertificate, selfSignedCertificate } from './self-signed-cert.js';
export { uniqueName } from './unique.js';
export { useRedis } from './vitest-hooks.js';
export { sleep, type WaitForOptions, WaitTimeoutError, waitFor, withTimeout } from './wait.js';
