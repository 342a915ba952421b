import type { ServerResponse } from 'node:http';
import { HTTP_STATUS, type CharterErrorCode } from '../errors.js';
import { problemBody, problemHeaders } from '../guard/problem.js';

/** Writes an RFC 9457 problem; its status comes from the edge table unless the server means another (405, 421). */
export function problem(res: ServerResponse, code: CharterErrorCode, detail: string, status: number = HTTP_STATUS[code], headers: Record<string, string> = {}): void {
  res.writeHead(status, problemHeaders(status, headers));
  res.end(JSON.stringify(problemBody(code, detail, undefined, status)));
}
