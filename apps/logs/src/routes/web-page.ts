import { readFileSync } from 'node:fs';
import { Router } from 'express';

const page = readFileSync(new URL('../../public/index.html', import.meta.url), 'utf8');

/** `GET /`: the access-log browser, one static page that talks to this app's API. */
export function webPageRoutes(): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res
      .type('html')
      .set(
        'Content-Security-Policy',
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'",
      )
      .send(page);
  });
  return router;
}
