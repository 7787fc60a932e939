import { OutputChunker, type OutputChunk } from './output-chunker';
import { OutputTail } from './output-tail';

describe('OutputChunker', () => {
  it('splits large writes into bounded chunks whose offsets cover the stream', () => {
    const chunks: OutputChunk[] = [];
    const c = new OutputChunker('stdout', (x) => chunks.push(x), { chunkBytesMax: 10 });
    const input = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    c.write(input.subarray(0, 7));
    c.write(input.subarray(7));
    expect(chunks.map((x) => x.data.length)).toEqual([10, 10]);
    c.flush();
    expect(chunks.map((x) => [x.offset, x.data.toString()])).toEqual([
      [0, 'abcdefghij'],
      [10, 'klmnopqrst'],
      [20, 'uvwxyz'],
    ]);
    expect(chunks.every((x) => x.stream === 'stdout')).toBe(true);
    expect(c.bytesWritten).toBe(26);
  });

  it('coalesces small writes into one chunk after the flush interval', async () => {
    const chunks: OutputChunk[] = [];
    const c = new OutputChunker('stderr', (x) => chunks.push(x), { flushIntervalMs: 30 });
    for (let i = 0; i < 10; i++) c.write(Buffer.from(`${i}\n`));
    expect(chunks).toEqual([]);
    await new Promise((r) => setTimeout(r, 80));
    expect(chunks).toHaveLength(1);
    expect(chunks[0].data.toString()).toBe('0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n');
    expect(chunks[0].stream).toBe('stderr');
  });

  it('emits nothing for an empty stream', () => {
    const chunks: OutputChunk[] = [];
    const c = new OutputChunker('stdout', (x) => chunks.push(x));
    c.write(Buffer.alloc(0));
    c.flush();
    expect(chunks).toEqual([]);
  });
});

describe('OutputTail', () => {
  it('keeps only the last bytes', () => {
    const t = new OutputTail(5);
    for (const s of ['ab', 'cd', 'efg', 'h']) t.push(Buffer.from(s));
    expect(t.toString()).toBe('defgh');
    const big = new OutputTail(4);
    big.push(Buffer.from('0123456789'));
    expect(big.toString()).toBe('6789');
  });
});
