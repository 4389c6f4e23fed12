/**
 * A namespace's private CA bundle: PEM certificates that HTTPS deliveries of the namespace
 * trust besides the standard CAs. Checked when it is written, so a delivery never meets one
 * that does not parse.
 */
import { X509Certificate } from 'node:crypto';

export const MAX_CA_BUNDLE_BYTES = 64 * 1024;

export type CaBundleCheck = { ok: true; certificates: number } | { ok: false; problem: string };

// Lines are bounded by the 64 KiB body; [^-]* cannot backtrack across a block.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;

/** Whether `pem` is one or more PEM CERTIFICATE blocks that parse as X.509, and nothing else. */
export function checkCaBundle(pem: string): CaBundleCheck {
  const certificates: string[] = [];
  let rest = '';
  let last = 0;
  for (const match of pem.matchAll(PEM_BLOCK)) {
    rest += pem.slice(last, match.index);
    last = match.index + match[0].length;
    const [block, fullBegin = '', , fullEnd = ''] = match;
    // The labels are the caller's text: at most 40 characters of each go back in the answer.
    const [begin, end] = [fullBegin.slice(0, 40), fullEnd.slice(0, 40)];
    if (fullBegin !== fullEnd) return { ok: false, problem: `a PEM block begins ${begin} but ends ${end}` };
    if (fullBegin !== 'CERTIFICATE') {
      return {
        ok: false,
        problem: `block ${certificates.length + 1} is a ${begin}, not a CERTIFICATE: a CA bundle holds certificates only`,
      };
    }
    certificates.push(block);
  }
  rest += pem.slice(last);
  if (rest.trim() !== '') {
    return {
      ok: false,
      problem: 'the bundle holds text outside PEM blocks (-----BEGIN CERTIFICATE----- ...)',
    };
  }
  if (certificates.length === 0) return { ok: false, problem: 'the bundle holds no PEM CERTIFICATE block' };
  for (const [index, block] of certificates.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, problem: `certificate ${index + 1} does not parse as X.509 (${reason})` };
    }
  }
  return { ok: true, certificates: certificates.length };
}
