import fc from 'fast-check';
import { committedIndex, majority, voteResult } from './quorum';

describe('quorum', () => {
  test('committedIndex is the largest index that a majority has matched (vs. the obvious search)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 7 }), (matches) => {
        const ids = matches.map((_, i) => i + 1);
        let naive = 0;
        for (let idx = 0; idx <= 50; idx++) {
          if (matches.filter((m) => m >= idx).length >= majority(matches.length)) naive = idx;
        }
        expect(committedIndex(ids, (id) => matches[id - 1])).toBe(naive);
      }),
    );
  });

  test('voteResult wins, loses or waits exactly as counting says', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(true, false, undefined), { minLength: 1, maxLength: 7 }), (vs) => {
        const voters = new Set(vs.map((_, i) => i + 1));
        const votes = new Map<number, boolean>();
        vs.forEach((v, i) => v !== undefined && votes.set(i + 1, v));
        votes.set(99, true); // Not a voter: must not count.
        const yes = vs.filter((v) => v === true).length;
        const no = vs.filter((v) => v === false).length;
        const q = majority(vs.length);
        const want = yes >= q ? 'won' : vs.length - no < q ? 'lost' : 'pending';
        expect(voteResult(voters, votes)).toBe(want);
      }),
    );
  });
});
