/** The host's first duty for each Ready: make its writes durable, in order. */
import type { Ready } from './raft-node';
import type { Storage } from './storage';

/**
 * Writes the snapshot, entries and hard state of `rd` to `storage` and
 * syncs. Messages may be sent only after this returns: a vote or an append
 * acknowledgement promises the data is on disk.
 */
export function persistReady(storage: Storage, rd: Ready): void {
  if (rd.snapshot) storage.applySnapshot(rd.snapshot);
  if (rd.entries.length > 0) storage.append(rd.entries);
  if (rd.hardState) storage.setHardState(rd.hardState);
  if (rd.snapshot || rd.entries.length > 0 || rd.hardState) storage.sync();
}
