/**
 * `GET /`: the console, plain ES modules under public/ (typechecked from their JSDoc, no build
 * step) and the one library they use, eventsource-parser, served from this app's dependencies.
 * No inline script or style, so the policy allows only this origin, and Trusted Types make any
 * HTML parsing of a string (innerHTML) throw: data reaches the page as text only.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { notFound, type RouteHandlers } from '@registry-triggers/http-kit';
import express, { type RequestHandler } from 'express';

const publicDir = fileURLToPath(new URL('../../public/', import.meta.url));
/** The console's modules, flat: each is served at /js/<name>.js. */
const modulesDir = join(publicDir, 'js');
/**
 * The SSE parser's ES module build, one self-contained file. Found from its package.json:
 * resolving the package itself would honour the `source` condition the apps run with and
 * give its TypeScript.
 */
const sseParser = join(
  dirname(createRequire(import.meta.url).resolve('eventsource-parser/package.json')),
  'dist',
  'index.js',
);

const securityHeaders: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'; " +
    "require-trusted-types-for 'script'; trusted-types 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  // Revalidate every time (ETag): a deploy is seen at once, an unchanged file costs a 304.
  'Cache-Control': 'no-cache',
};

export function webPageHandlers(): RouteHandlers {
  // Fail at start-up, not on the first visit, if the console was not shipped with the app.
  for (const file of [
    join(publicDir, 'index.html'),
    join(publicDir, 'app.css'),
    join(modulesDir, 'main.js'),
    sseParser,
  ]) {
    if (!existsSync(file)) throw new Error(`the console is missing ${file}`);
  }
  const files = express.static(publicDir, {
    index: 'index.html',
    redirect: false,
    setHeaders: (res) => {
      res.set(securityHeaders);
    },
  });
  // One flat folder of modules (a name never holds a slash), and the SSE parser's module beside them.
  const serveModule: RequestHandler = (req, res, next) => {
    const module = String(req.params.module);
    if (!/^[a-z][a-z-]*\.js$/.test(module)) {
      next(notFound(`module ${module.slice(0, 64)}`));
      return;
    }
    const file = module === 'eventsource-parser.js' ? sseParser : join(modulesDir, module);
    res.set(securityHeaders);
    res.sendFile(file, { headers: { 'Content-Type': 'text/javascript; charset=utf-8' } }, (error) => {
      // A module that is not there: a 404 problem.
      if (error) next((error as { status?: number }).status === 404 ? notFound(`module ${module}`) : error);
    });
  };
  return {
    getLogsPage: files,
    getLogsPageIndex: files,
    getLogsPageStyle: files,
    getLogsPageModule: serveModule,
  };
}
