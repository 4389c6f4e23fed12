/** What a job carries of the api request that made it: its request id and the active span's traceparent. */
import { requestIdOf, traceparentOf } from '@registry-triggers/http-kit';
import type { JobContext } from '@registry-triggers/store';
import type { Response } from 'express';

export function jobContextOf(res: Response): JobContext {
  const requestId = requestIdOf(res);
  const traceparent = traceparentOf();
  return { ...(requestId ? { requestId } : {}), ...(traceparent ? { traceparent } : {}) };
}
