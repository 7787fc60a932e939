/** Cuts `s` to at most `bytesMax` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, bytesMax: number): string {
  if (Buffer.byteLength(s, 'utf8') <= bytesMax) return s;
  const buf = Buffer.from(s, 'utf8');
  let end = bytesMax;
  // Step back over continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/**
 * The last at most `bytesMax` bytes of `buf` as text, starting on a character boundary, for
 * output tails where only the end matters.
 */
export function tailUtf8(buf: Buffer, bytesMax: number): string {
  let start = Math.max(0, buf.length - bytesMax);
  // Skip continuation bytes (10xxxxxx) left over from a character cut at the front.
  while (start < buf.length && start > 0 && (buf[start] & 0xc0) === 0x80) start++;
  return buf.subarray(start).toString('utf8');
}
