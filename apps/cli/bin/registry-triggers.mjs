#!/usr/bin/env node
// The built CLI when there is one (an installed package); in the checkout, its TypeScript
// source through tsx, so `npx registry-triggers` works without a build.
import { existsSync } from 'node:fs';

const built = new URL('../dist/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
