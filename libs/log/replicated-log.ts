import type { Command } from '../gen/dtf/state/v1/command_pb';
import type { ApplyResult } from '../state/coordinator-state';

/**
 * The seam between the coordinator and its log. `propose` resolves once the
 * command is durable (on a quorum, for Raft) and applied to the state
 * machine, with what applying it did. The local file log implements it for a
 * single coordinator; the Raft log implements the same for a cluster.
 */
export interface ReplicatedLog {
  propose(cmd: Command): Promise<ApplyResult>;
  /** Index of the last applied entry. */
  appliedIndex(): bigint;
  close(): Promise<void>;
}

/** Thrown by `propose` when the command could not be made durable. */
export class LogError extends Error {
  override name = 'LogError';
}
