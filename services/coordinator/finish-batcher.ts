import { Code, ConnectError } from '@connectrpc/connect';
import type { AttemptResult } from '../../libs/gen/dtf/common/v1/common_pb';
import type { ApplyResult } from '../../libs/state/coordinator-state';

/**
 * Results proposed in one FinishAttempts entry at most. A worker message
 * carries at most `resultsPerMessageMax` (1,000), and one message is never
 * split, so an entry holds at most this plus one message's worth.
 */
export const resultsPerProposalMax = 4096;

interface Waiting {
  results: AttemptResult[];
  resolve: (recorded: boolean[]) => void;
  reject: (e: Error) => void;
}

/**
 * Coalesces the results that many workers send in the same turn of the event
 * loop into one FinishAttempts proposal. With a hundred one-slot workers,
 * one entry per worker message meant a hundred entries (each encoded,
 * framed, checksummed and applied on its own) where one does.
 *
 * Nothing is answered before the shared entry is durable and applied, so
 * "a result is acknowledged only once committed" holds per result.
 */
export class FinishBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly propose: (results: AttemptResult[]) => Promise<ApplyResult>) {}

  /**
   * Resolves once `results` are committed, with one flag per result: true
   * when recorded, false when rejected as not current.
   */
  finish(results: AttemptResult[]): Promise<boolean[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ results, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // After the I/O phase, so every message read from the sockets this turn joins.
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.waiting;
    this.waiting = [];
    let group: Waiting[] = [];
    let count = 0;
    for (const w of all) {
      if (group.length > 0 && count + w.results.length > resultsPerProposalMax) {
        this.proposeGroup(group);
        group = [];
        count = 0;
      }
      group.push(w);
      count += w.results.length;
    }
    if (group.length > 0) this.proposeGroup(group);
  }

  private proposeGroup(group: Waiting[]): void {
    const results = group.length === 1 ? group[0].results : group.flatMap((w) => w.results);
    this.propose(results).then(
      (res) => {
        if (res.kind !== 'finished') throw new ConnectError(`finish failed: ${res.kind === 'error' ? res.message : res.kind}`, Code.Internal);
        let at = 0;
        for (const w of group) {
          w.resolve(res.recorded.slice(at, at + w.results.length));
          at += w.results.length;
        }
      },
    ).catch((e: Error) => {
      for (const w of group) w.reject(e);
    });
  }
}
