import { Code, ConnectError } from '@connectrpc/connect';
import { codeToHttpStatus, codeToString } from '@connectrpc/connect/protocol-connect';
import type { ServerResponse } from 'node:http';

/** Writes `body` as JSON with `status`; bigints become strings. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text + '\n');
}

/**
 * Writes an error as `{"error": {"code", "message"}}` with the HTTP status
 * that matches its code: 400 bad input, 404 unknown id, 429 overload, …
 */
export function sendError(res: ServerResponse, err: unknown): void {
  const ce = ConnectError.from(err);
  const status = ce.code === Code.Unimplemented ? 501 : codeToHttpStatus(ce.code);
  const headers: Record<string, string> = {};
  const retryAfter = ce.metadata.get('retry-after');
  if (retryAfter) headers['retry-after'] = retryAfter;
  sendJson(res, status, { error: { code: codeToString(ce.code), message: ce.rawMessage } }, headers);
}
