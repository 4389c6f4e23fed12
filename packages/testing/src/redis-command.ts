// A one-shot RESP client for health checks and cluster inspection. It needs no retry or
// reconnect logic (unlike ioredis), so polling a server that is still starting is a
// plain connection refusal that `waitFor` retries.
import { connect } from 'node:net';

export type RedisReply = string | number | null;

/** Sends one command on a fresh connection and returns a non-array reply. */
export function redisCommand(
  host: string,
  port: number,
  args: readonly string[],
  timeoutMs = 2000,
): Promise<RedisReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = Buffer.alloc(0);
    const finish = (error: Error | undefined, reply?: RedisReply) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(reply ?? null);
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new Error(`redis ${host}:${port} did not answer ${args[0]} within ${timeoutMs} ms`)),
    );
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parseReply(buffer);
      if (parsed === undefined) return; // incomplete
      if (parsed instanceof Error) finish(parsed);
      else finish(undefined, parsed);
    });
  });
}

/** INFO / CLUSTER INFO text as a field map. */
export async function redisInfo(
  host: string,
  port: number,
  command: readonly string[],
): Promise<Map<string, string>> {
  const text = String(await redisCommand(host, port, command));
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

export async function redisPing(host: string, port: number): Promise<boolean> {
  return (await redisCommand(host, port, ['PING'], 1000)) === 'PONG';
}

function encodeCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

function parseReply(buffer: Buffer): RedisReply | Error | undefined {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd < 0) return undefined;
  const line = buffer.subarray(1, lineEnd).toString();
  switch (String.fromCharCode(buffer[0]!)) {
    case '+':
      return line;
    case '-':
      return new Error(line);
    case ':':
      return Number(line);
    case '$': {
      const length = Number(line);
      if (length < 0) return null;
      const start = lineEnd + 2;
      if (buffer.length < start + length + 2) return undefined;
      return buffer.subarray(start, start + length).toString();
    }
    default:
      return new Error(`unsupported RESP reply type: ${line}`);
  }
}
