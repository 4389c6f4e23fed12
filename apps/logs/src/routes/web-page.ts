/**
 * `GET /`: the access-log browser, static files that talk to this app's API. No inline
 * script or style, so the policy allows only this origin.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

const publicDir = fileURLToPath(new URL('../../public/', import.meta.url));

/** The files of the page; nothing else under public/ is served. */
const files = ['/', '/index.html', '/app.js', '/app.css'];

const securityHeaders: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Revalidate every time (ETag): a deploy is seen at once, an unchanged file costs a 304.
  'Cache-Control': 'no-cache',
};

export function webPageRoutes(): Router {
  // Fail at start-up, not on the first visit, if the page was not shipped with the app.
  for (const file of ['index.html', 'app.js', 'app.css']) {
    if (!existsSync(join(publicDir, file)))
      throw new Error(`the web page is missing ${join(publicDir, file)}`);
  }
  const router = Router();
  router.get(
    files,
    express.static(publicDir, {
      index: 'index.html',
      redirect: false,
      setHeaders: (res) => {
        res.set(securityHeaders);
      },
    }),
  );
  return router;
}
