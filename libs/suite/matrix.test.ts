import { combineMatrices, expandMatrix, matrixSizeBound, readMatrix } from './matrix';

describe('expandMatrix', () => {
  it('is the cartesian product, first axis slowest, minus excludes, plus includes', () => {
    const m = readMatrix({ model: ['a', 'b'], batch: [1, 8], exclude: [{ model: 'b', batch: 8 }], include: [{ model: 'c', batch: 1 }] });
    expect(expandMatrix(m)).toEqual([
      { model: 'a', batch: '1' }, { model: 'a', batch: '8' }, { model: 'b', batch: '1' }, { model: 'c', batch: '1' },
    ]);
    expect(matrixSizeBound(m)).toBeGreaterThanOrEqual(4);
  });

  it('excludes by partial match and never excludes an include', () => {
    const m = readMatrix({ x: [1, 2], y: [1, 2], exclude: [{ x: 1 }], include: [{ x: 1, y: 1 }] });
    expect(expandMatrix(m)).toEqual([{ x: '2', y: '1' }, { x: '2', y: '2' }, { x: '1', y: '1' }]);
  });

  it('ranges an include over the axes it does not name, and drops duplicates', () => {
    const m = combineMatrices(readMatrix({ model: ['a'], include: [{ model: 'z' }, { model: 'a' }] }), readMatrix({ shard: [1, 2] }));
    expect(expandMatrix(m)).toEqual([
      { model: 'a', shard: '1' }, { model: 'a', shard: '2' }, { model: 'z', shard: '1' }, { model: 'z', shard: '2' },
    ]);
  });

  it('is one empty combination without a matrix, and only the includes with no axes', () => {
    expect(expandMatrix(readMatrix(undefined))).toEqual([{}]);
    expect(expandMatrix(readMatrix({ include: [{ a: 1 }, { a: 2 }] }))).toEqual([{ a: '1' }, { a: '2' }]);
  });

  it('lets a task axis replace the suite axis of the same name', () => {
    const m = combineMatrices(readMatrix({ model: ['a', 'b'] }), readMatrix({ model: ['c'] }));
    expect(expandMatrix(m)).toEqual([{ model: 'c' }]);
  });

  it('bounds the size without expanding', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    expect(matrixSizeBound(readMatrix({ a: values, b: values, c: values }))).toBe(1e9);
  });
});
