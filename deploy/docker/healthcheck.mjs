// The image's HEALTHCHECK: one app runs per container, so the check asks /healthz of each
// app's port and passes when the one that listens answers 200.
const ports = [
  process.env.API_PORT || '8080',
  process.env.LOGS_PORT || '8081',
  process.env.WORKER_METRICS_PORT || '9464',
];

async function healthy(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

const answers = await Promise.all(ports.map(healthy));
process.exit(answers.some(Boolean) ? 0 : 1);
