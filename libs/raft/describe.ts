/** One-line descriptions of messages and entries, for logs and transcript tests. */
import { decodeConfChange } from './codec';
import { ConfChangeType, EntryType, MessageType, type Entry, type Message } from './types';

const typeNames: Record<MessageType, string> = {
  [MessageType.UNSPECIFIED]: 'MsgUnspecified',
  [MessageType.PRE_VOTE]: 'MsgPreVote',
  [MessageType.PRE_VOTE_RESPONSE]: 'MsgPreVoteResp',
  [MessageType.VOTE]: 'MsgVote',
  [MessageType.VOTE_RESPONSE]: 'MsgVoteResp',
  [MessageType.APPEND]: 'MsgApp',
  [MessageType.APPEND_RESPONSE]: 'MsgAppResp',
  [MessageType.HEARTBEAT]: 'MsgHeartbeat',
  [MessageType.HEARTBEAT_RESPONSE]: 'MsgHeartbeatResp',
  [MessageType.SNAPSHOT]: 'MsgSnap',
  [MessageType.SNAPSHOT_RESPONSE]: 'MsgSnapResp',
  [MessageType.TIMEOUT_NOW]: 'MsgTimeoutNow',
  [MessageType.READ_INDEX]: 'MsgReadIndex',
  [MessageType.READ_INDEX_RESPONSE]: 'MsgReadIndexResp',
};

const text = (d: Uint8Array): string => JSON.stringify(Buffer.from(d).toString('utf8'));

/** "3/7 EntryNormal \"x\"": term/index, type and data. */
export function describeEntry(e: Entry): string {
  if (e.type === EntryType.CONF_CHANGE) {
    const cc = decodeConfChange(e.data);
    const verb = cc.type === ConfChangeType.ADD_VOTER ? 'add' : 'remove';
    return `${e.term}/${e.index} EntryConfChange ${verb} ${cc.nodeId}`;
  }
  return `${e.term}/${e.index} EntryNormal ${text(e.data)}`;
}

/** "1->2 MsgApp Term:2 Log:1/3 Commit:3 Entries:[...]", showing only what the type uses. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${typeNames[m.type] ?? m.type} Term:${m.term}`;
  switch (m.type) {
    case MessageType.PRE_VOTE:
    case MessageType.VOTE:
      s += ` Log:${m.logTerm}/${m.index}${m.transfer ? ' Transfer' : ''}`;
      break;
    case MessageType.APPEND:
      s += ` Log:${m.logTerm}/${m.index} Commit:${m.commit}`;
      if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(', ')}]`;
      break;
    case MessageType.APPEND_RESPONSE:
      s += ` Index:${m.index}`;
      if (m.reject) s += ` Rejected (Hint: ${m.rejectHint}/${m.logTerm})`;
      break;
    case MessageType.HEARTBEAT:
      s += ` Commit:${m.commit}`;
      break;
    case MessageType.SNAPSHOT:
      s += ` Snapshot:${m.snapshot?.term}/${m.snapshot?.index} Voters:[${m.snapshot?.confState.voters.join(',')}]`;
      s += ` Chunk:${m.chunkOffset}+${m.chunkData.length}${m.chunkLast ? ' Last' : ''}`;
      break;
    case MessageType.SNAPSHOT_RESPONSE:
      s += ` Index:${m.index} Next:${m.chunkOffset}${m.chunkLast ? ' Done' : ''}`;
      break;
    case MessageType.READ_INDEX_RESPONSE:
      s += ` Index:${m.index}`;
      break;
    default:
      if (m.reject) s += ' Rejected';
  }
  if (m.context.length > 0) s += ` Context:${text(m.context)}`;
  return s;
}
