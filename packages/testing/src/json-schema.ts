/**
 * A small JSON Schema (2020-12) checker for the keywords the OpenAPI document uses,
 * enough to hold real responses against the documented schemas. Unknown keywords fail
 * loudly, so the document cannot quietly grow beyond what the tests check.
 */

export type Schema = Record<string, unknown> | boolean;

const IGNORED = new Set([
  'description',
  'default',
  'format',
  'example',
  'examples',
  'title',
  'propertyNames',
]);
const CHECKED = new Set([
  '$ref',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'allOf',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
]);

export function unknownKeywords(schema: Schema): string[] {
  if (typeof schema === 'boolean') return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (!CHECKED.has(key) && !IGNORED.has(key)) found.push(key);
    if (key === 'properties' && value && typeof value === 'object') {
      for (const sub of Object.values(value)) found.push(...unknownKeywords(sub as Schema));
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') {
      found.push(...unknownKeywords(value as Schema));
    } else if (['anyOf', 'oneOf', 'allOf'].includes(key) && Array.isArray(value)) {
      for (const sub of value) found.push(...unknownKeywords(sub as Schema));
    }
  }
  return found;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const matchesType = (value: unknown, type: string) =>
  type === 'number' ? typeof value === 'number' : typeOf(value) === type;

/** Problems of `value` against `schema` (empty when valid); `$ref`s resolve in `root`. */
export function validate(value: unknown, schema: Schema, root: unknown, at = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value is allowed here`];
  const errors: string[] = [];
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === 'string')
    errors.push(...validate(value, resolveRef(root, s.$ref) as Schema, root, at));
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => matchesType(value, t)))
      return [...errors, `${at}: ${typeOf(value)} is not ${types}`];
  }
  if (s.enum && !(s.enum as unknown[]).some((v) => v === value)) errors.push(`${at}: not one of ${s.enum}`);
  if ('const' in s && s.const !== value) errors.push(`${at}: not ${JSON.stringify(s.const)}`);
  if (typeof value === 'string') {
    if (typeof s.minLength === 'number' && value.length < s.minLength)
      errors.push(`${at}: shorter than ${s.minLength}`);
    if (typeof s.maxLength === 'number' && value.length > s.maxLength)
      errors.push(`${at}: longer than ${s.maxLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value))
      errors.push(`${at}: not ${s.pattern}`);
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${at}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${at}: above ${s.maximum}`);
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum)
      errors.push(`${at}: too small`);
    if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum) errors.push(`${at}: too big`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems)
      errors.push(`${at}: fewer than ${s.minItems}`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems)
      errors.push(`${at}: more than ${s.maxItems}`);
    if (s.items !== undefined)
      value.forEach((item, i) => {
        errors.push(...validate(item, s.items as Schema, root, `${at}[${i}]`));
      });
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const name of (s.required ?? []) as string[]) {
      if (!(name in object)) errors.push(`${at}: ${name} is required`);
    }
    for (const [name, item] of Object.entries(object)) {
      const property = properties[name];
      if (property !== undefined) errors.push(...validate(item, property, root, `${at}.${name}`));
      else if (s.additionalProperties !== undefined)
        errors.push(...validate(item, s.additionalProperties as Schema, root, `${at}.${name}`));
    }
  }
  if (Array.isArray(s.allOf))
    for (const sub of s.allOf) errors.push(...validate(value, sub as Schema, root, at));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => validate(value, sub as Schema, root, at).length === 0))
    errors.push(`${at}: matches none of anyOf`);
  if (Array.isArray(s.oneOf)) {
    const matching = s.oneOf.filter((sub) => validate(value, sub as Schema, root, at).length === 0).length;
    if (matching !== 1) errors.push(`${at}: matches ${matching} of oneOf`);
  }
  return errors;
}

/** Follows a local JSON pointer (`#/a/b`); throws when it leads nowhere. */
export function resolveRef(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`only local $refs are expected, got ${ref}`);
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const segment = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !(segment in node))
      throw new Error(`unresolved $ref ${ref}`);
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}
