import { HTTP_STATUS, type CharterErrorCode, type Reason } from '../errors.js';

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

/** The body of a refusal or error, with its status from the one edge table unless given. */
export function problemBody(code: CharterErrorCode, detail: string, reasons?: Reason[], status: number = HTTP_STATUS[code]): ProblemDetails {
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

/** Response headers every problem carries; a 503 (a store fault) asks for a retry (RFC 9110 §10.2.3). */
export function problemHeaders(status: number, extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...(status === 503 ? { 'retry-after': '1' } : {}), ...extra };
}
