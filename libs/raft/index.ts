/** The public surface of the Raft core; see README.md for how a host drives it. */
export * from './types';
export * from './config';
export * from './rng';
export * from './storage';
export { MemoryStorage } from './memory-storage';
export { RaftNode, type Ready, type ProposeResult, type ProposeRefusal, type RaftStatus, type PeerProgress } from './raft-node';
export { persistReady } from './persist-ready';
export { bootstrap } from './bootstrap';
export * from './codec';
export { FileStorage } from './file-storage';
