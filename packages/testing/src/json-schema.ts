/**
 * Holds values against the OpenAPI document's schemas with Ajv (JSON Schema 2020-12, the
 * dialect of OpenAPI 3.1) and ajv-formats. Ajv runs in strict mode: a keyword it does not know
 * fails loudly, so the document cannot quietly grow beyond what the tests check.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';

export type Schema = Record<string, unknown> | boolean;

// ajv-formats is CommonJS: its plugin is the module itself, or its `default` through some loaders.
const addFormats = ((addFormatsPlugin as unknown as { default?: unknown }).default ??
  addFormatsPlugin) as unknown as (ajv: Ajv2020) => Ajv2020;

const DOCUMENT_ID = 'openapi-document';
const COMPONENT_REF = /^#\/components\/schemas\//;

/** The schema with every `#/components/schemas/X` pointing at the document's copy in Ajv. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && COMPONENT_REF.test(value)
        ? value.replace(COMPONENT_REF, `${DOCUMENT_ID}#/$defs/`)
        : rewriteRefs(value),
    ]),
  );
}

function withoutRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRefs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== '$ref')
      .map(([key, value]) => [key, withoutRefs(value)]),
  );
}

function newAjv(): Ajv2020 {
  // allErrors: a test failure lists every problem; `example` is OpenAPI's own keyword.
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  ajv.addKeyword('example');
  addFormats(ajv);
  return ajv;
}

/** One Ajv per document, holding its component schemas. */
const validators = new WeakMap<object, Ajv2020>();

function ajvFor(root: unknown): Ajv2020 {
  const key = (root ?? {}) as object;
  let ajv = validators.get(key);
  if (!ajv) {
    ajv = newAjv();
    const schemas = (root as { components?: { schemas?: Record<string, unknown> } } | undefined)?.components
      ?.schemas;
    ajv.addSchema({ $id: DOCUMENT_ID, $defs: rewriteRefs(schemas ?? {}) as object });
    validators.set(key, ajv);
  }
  return ajv;
}

const compiled = new WeakMap<object, ValidateFunction>();

/** Problems of `value` against `schema` (empty when valid); `$ref`s resolve in `root`, the document. */
export function validate(value: unknown, schema: Schema, root: unknown): string[] {
  if (typeof schema === 'boolean') return schema ? [] : ['$: no value is allowed here'];
  const ajv = ajvFor(root);
  let check = compiled.get(schema);
  if (!check) {
    check = ajv.compile(rewriteRefs(schema) as object);
    compiled.set(schema, check);
  }
  if (check(value)) return [];
  return (check.errors ?? []).map((error) => `$${error.instancePath}: ${error.message ?? error.keyword}`);
}

/** The keywords of `schema` strict Ajv does not know (empty when it compiles). */
export function unknownKeywords(schema: Schema): string[] {
  if (typeof schema === 'boolean') return [];
  try {
    // Its own Ajv, without the document: a `$ref` to a component is that component's check.
    newAjv().compile(withoutRefs(schema) as object);
    return [];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /unknown keyword: "([^"]+)"/.exec(message);
    if (unknown?.[1]) return [unknown[1]];
    throw error;
  }
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
