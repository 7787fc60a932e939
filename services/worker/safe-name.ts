import { createHash } from 'node:crypto';

/** Longest name safeName returns; file systems allow 255 bytes, and callers add suffixes. */
export const safeNameCharsMax = 180;

/**
 * An id from the coordinator (a task id) as one path component. Ids must not be able to name
 * a path outside our directories ("../x", "a/b"), so everything but unreserved characters is
 * percent-encoded, "." and ".." are spelt out, and an over-long result is replaced by a hash.
 * Different ids give different names, except for hash collisions, which are negligible.
 */
export function safeName(id: string): string {
  const encoded = encodeURIComponent(id).replace(/^\.{1,2}$/, (dots) => '%2E'.repeat(dots.length));
  if (encoded.length <= safeNameCharsMax) return encoded;
  // encodeURIComponent only writes "%" before two hex digits, so "%~" keeps hashed names apart from encoded ones.
  return `%~${createHash('sha256').update(id).digest('hex')}`;
}
