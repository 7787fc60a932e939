/**
 * CRC32C (Castagnoli), the checksum of every record DTF writes to disk.
 * Table-driven, one byte at a time: fast enough for log records, and pure.
 */
const castagnoliPolynomial = 0x82f63b78;

const table: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ castagnoliPolynomial : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Returns the CRC32C of `data`, continuing from `crc` when given. */
export function crc32c(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
