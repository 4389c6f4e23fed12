import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envFlag, parseEnv } from './env.js';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  FLAG: envFlag().default(false),
  NAME: z.string().min(1).optional(),
});

describe('parseEnv', () => {
  it('reads an empty or blank variable as unset, so its default applies', () => {
    expect(parseEnv(schema, { PORT: '', FLAG: ' ', NAME: '' })).toEqual({ PORT: 8080, FLAG: false });
  });

  it('reads set variables as given', () => {
    expect(parseEnv(schema, { PORT: '9090', FLAG: 'yes', NAME: 'x' })).toEqual({
      PORT: 9090,
      FLAG: true,
      NAME: 'x',
    });
  });
});
