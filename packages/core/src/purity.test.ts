/**
 * packages/core stays pure (no I/O, no framework) so every other package can
 * use it and its tests run in microseconds. This fails as soon as a module
 * imports something else.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const SOURCE_DIR = new URL('./', import.meta.url);
const ALLOWED_IN_SOURCE = new Set(['zod', 're2js', 'node:crypto']);
const ALLOWED_IN_TESTS = new Set([...ALLOWED_IN_SOURCE, 'vitest', 'fast-check', 'node:fs']);

// Static imports and re-exports (`import x from`, `import type`, `export * from`),
// bare `import 'x'`, dynamic `import('x')` and `require('x')`.
const SPECIFIER_PATTERNS = [
  /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  /\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
];

function specifiersOf(source: string): string[] {
  return SPECIFIER_PATTERNS.flatMap((pattern) =>
    [...source.matchAll(pattern)].map((match) => match[1] ?? ''),
  );
}

// This file is left out: it holds import statements as test data.
const SELF = 'purity.test.ts';
const files = readdirSync(SOURCE_DIR).filter((name) => name.endsWith('.ts') && name !== SELF);

describe('packages/core imports', () => {
  it('finds the modules it scans', () => {
    expect(files).toContain('index.ts');
    expect(files).toContain('match.ts');
    expect(files).toContain('match.test.ts');
    expect(specifiersOf("import { RE2JS } from 're2js';\nexport * from './a.js';")).toEqual([
      're2js',
      './a.js',
    ]);
    expect(specifiersOf("const x = await import('node:http');")).toEqual(['node:http']);
    expect(specifiersOf("import 'ioredis';\nimport type { Redis } from 'ioredis';")).toEqual([
      'ioredis',
      'ioredis',
    ]);
    expect(specifiersOf("import {\n  a,\n  b,\n} from 'express';")).toEqual(['express']);
    expect(specifiersOf("const u = require('undici');")).toEqual(['undici']);
  });

  it.each(files)('%s imports only zod, re2js, node:crypto and relative .js files', (file) => {
    const source = readFileSync(new URL(file, SOURCE_DIR), 'utf8');
    const allowed = file.endsWith('.test.ts') ? ALLOWED_IN_TESTS : ALLOWED_IN_SOURCE;
    const offending = specifiersOf(source).filter((specifier) =>
      specifier.startsWith('.')
        ? !/^\.\.?\/[\w./-]+\.js$/.test(specifier) || specifier.startsWith('../')
        : !allowed.has(specifier),
    );
    expect(offending).toEqual([]);
  });
});
