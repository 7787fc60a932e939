/** Parsing `--peers 1=host:port,2=host:port` and single addresses, with errors that say what to write. */

/** Checks `host:port`; returns it unchanged. */
export function parseAddress(address: string): string {
  const m = /^([A-Za-z0-9._-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(address);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new Error(`"${address}" is not host:port with a port from 1 to 65535, e.g. 127.0.0.1:7001`);
  }
  return address;
}

/** Parses `id=host:port` pairs separated by commas into a map, naming the first bad pair. */
export function parsePeers(text: string): Map<number, string> {
  const peers = new Map<number, string>();
  const seen = new Set<string>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`--peers: "${part}" is not id=host:port, e.g. 1=127.0.0.1:7001`);
    const idText = part.slice(0, eq);
    const id = Number(idText);
    if (!/^\d+$/.test(idText) || !Number.isSafeInteger(id) || id < 1) throw new Error(`--peers: "${idText}" in "${part}" is not a member id; ids are positive integers`);
    if (peers.has(id)) throw new Error(`--peers: member ${id} is listed twice`);
    let address: string;
    try {
      address = parseAddress(part.slice(eq + 1));
    } catch (e) {
      throw new Error(`--peers: member ${id}: ${(e as Error).message}`);
    }
    if (seen.has(address)) throw new Error(`--peers: address ${address} is listed for two members`);
    seen.add(address);
    peers.set(id, address);
  }
  if (peers.size === 0) throw new Error('--peers is empty; list every founding member as id=host:port, comma-separated');
  return peers;
}
