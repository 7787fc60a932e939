import { encodeRecord, recordBytesMax, recordHeaderBytes, scanRecords } from './record-file';

/** A few payloads of different sizes, and the log they make. */
function sampleLog(): { payloads: Buffer[]; buf: Buffer; starts: number[] } {
  const payloads = [Buffer.from('a'), Buffer.from('second entry'), Buffer.alloc(300, 7), Buffer.from('x'.repeat(40)), Buffer.from([0, 0, 0, 1])];
  const starts: number[] = [];
  let at = 0;
  for (const p of payloads) {
    starts.push(at);
    at += recordHeaderBytes + p.length;
  }
  return { payloads, buf: Buffer.concat(payloads.map((p) => encodeRecord(p))), starts };
}

describe('record file', () => {
  it('round-trips records', () => {
    const { payloads, buf } = sampleLog();
    const scan = scanRecords(buf);
    expect(scan.payloads).toEqual(payloads);
    expect(scan.validBytes).toBe(buf.length);
    expect(scan.corruption).toBeUndefined();
    expect(scanRecords(Buffer.alloc(0))).toEqual({ payloads: [], validBytes: 0 });
  });

  it('refuses empty payloads, so zero bytes are never records', () => {
    expect(() => encodeRecord(new Uint8Array())).toThrow('empty');
  });

  it('recovers every earlier record from a tail torn at any byte of the last record', () => {
    const { payloads, buf, starts } = sampleLog();
    const last = starts[starts.length - 1]!;
    for (let cut = last; cut < buf.length; cut++) {
      const scan = scanRecords(buf.subarray(0, cut));
      expect({ cut, corruption: scan.corruption, validBytes: scan.validBytes }).toEqual({ cut, corruption: undefined, validBytes: last });
      expect(scan.payloads).toEqual(payloads.slice(0, -1));
    }
  });

  it('treats a zero-filled or garbage tail as torn', () => {
    const { payloads, buf } = sampleLog();
    for (const tail of [Buffer.alloc(4096), Buffer.alloc(5), Buffer.from('\xff\xff\xff\xff\x00\x00\x00\x00garbage', 'latin1')]) {
      const scan = scanRecords(Buffer.concat([buf, tail]));
      expect(scan.corruption).toBeUndefined();
      expect(scan.validBytes).toBe(buf.length);
      expect(scan.payloads).toEqual(payloads);
    }
  });

  it('calls any damaged byte of a middle record followed by valid records corruption', () => {
    const { buf, starts } = sampleLog();
    const middle = 2;
    const from = starts[middle]!;
    const to = starts[middle + 1]!;
    for (const mask of [0x01, 0x80, 0xff]) {
      for (let at = from; at < to; at++) {
        const bad = Buffer.from(buf);
        bad[at]! ^= mask;
        const scan = scanRecords(bad);
        expect({ at, mask, corruption: scan.corruption }).toEqual({ at, mask, corruption: expect.stringContaining(`invalid record at byte ${from}`) });
        expect(scan.validBytes).toBe(from);
        expect(scan.payloads).toHaveLength(middle);
      }
    }
  });

  it('calls a length past the limit in the middle corruption, and at the end a torn tail', () => {
    const { buf, starts } = sampleLog();
    const bad = Buffer.from(buf);
    bad.writeUInt32LE(recordBytesMax + 1, starts[1]!);
    expect(scanRecords(bad).corruption).toContain(`invalid record at byte ${starts[1]}`);
    const tail = Buffer.from(buf);
    tail.writeUInt32LE(recordBytesMax + 1, starts[starts.length - 1]!);
    expect(scanRecords(tail).corruption).toBeUndefined();
  });
});
