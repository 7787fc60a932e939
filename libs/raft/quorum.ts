/** Majority arithmetic over a set of voters. */

/** The number of votes that make a majority of `voterCount`. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest index that a majority of voters have matched: sort the match
 * indexes in descending order and take the majority-th one.
 */
export function committedIndex(voters: Iterable<number>, matchOf: (id: number) => number): number {
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id));
  if (matches.length === 0) return 0;
  matches.sort((a, b) => b - a);
  return matches[majority(matches.length) - 1];
}

/** The outcome of a tally so far. */
export type VoteResult = 'won' | 'lost' | 'pending';

/** Tallies granted and rejected votes among `voters`; other senders don't count. */
export function voteResult(voters: ReadonlySet<number>, votes: ReadonlyMap<number, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const q = majority(voters.size);
  if (granted >= q) return 'won';
  if (voters.size - rejected < q) return 'lost';
  return 'pending';
}
