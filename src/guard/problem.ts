import type { ServerResponse } from 'node:http';
import type { CharterErrorCode, Reason } from '../errors.js';

/** RFC 9457 problem details; `code` carries the Charter error code. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: CharterErrorCode;
  reasons?: Reason[];
}

export const PROBLEM_BASE = 'https://charter.dev/problems/';

export function problemBody(status: number, code: CharterErrorCode, detail: string, reasons?: Reason[]): ProblemDetails {
  return {
    // RFC 9457 §3.1.1: a URI reference identifying the problem type.
    type: PROBLEM_BASE + code.toLowerCase().replace(/_/g, '-'),
    title: code,
    status,
    detail,
    code,
    ...(reasons && reasons.length ? { reasons } : {}),
  };
}

export function problem(res: ServerResponse, status: number, code: CharterErrorCode, detail: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
  res.end(JSON.stringify(problemBody(status, code, detail)));
}
