/** Whether a GET of `url` answers 200 within 2 s (readiness probes; errors propagate). */
export async function answersOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return response.status === 200;
}
