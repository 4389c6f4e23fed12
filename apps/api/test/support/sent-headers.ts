/** Headers as a registry sends them (a sample, a variant case), split for the api harness. */
export function splitContentType(headers: Record<string, string>): {
  contentType: string | null;
  others: Record<string, string>;
} {
  const others = { ...headers };
  const name = Object.keys(others).find((header) => header.toLowerCase() === 'content-type');
  if (name === undefined) return { contentType: null, others };
  const contentType = others[name]!;
  delete others[name];
  return { contentType, others };
}
