/** Creating the first configuration of a brand-new cluster. */
import { encodeConfChange } from './codec';
import type { Storage } from './storage';
import { ConfChangeType, EntryType, type Entry } from './types';

/**
 * Writes the initial membership into an empty storage as committed entries
 * 1..n of term 1, one ADD_VOTER each. Every founding member runs this with the
 * same voters; a node that joins later starts empty and learns the
 * membership from the leader's log or snapshot, like any other entry.
 */
export function bootstrap(storage: Storage, voters: number[]): void {
  if (storage.lastIndex() !== 0 || storage.initialState().hardState.term !== 0) {
    throw new Error('raft bootstrap: storage is not empty; bootstrap only a brand-new node');
  }
  if (voters.length === 0) throw new Error('raft bootstrap: a cluster needs at least one voter');
  const entries: Entry[] = voters.map((id, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.CONF_CHANGE,
    data: encodeConfChange({ type: ConfChangeType.ADD_VOTER, nodeId: id }),
  }));
  storage.append(entries);
  storage.setHardState({ term: 1, vote: 0, commit: voters.length });
  storage.sync();
}
