import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { CharterError, type CharterErrorCode } from '../errors.js';
import { addressAllowed, type AddressPolicy } from './address.js';

export interface SafeFetchOptions extends AddressPolicy {
  /** Allow `http:` URLs (only meaningful for loopback testing). */
  allowHttp?: boolean;
  timeoutMs?: number;
  maxBytes?: number;
  accept?: string;
  /** Code for a body over maxBytes. */
  tooLargeCode?: CharterErrorCode;
  /** Code for every other failure (unreachable, status, redirect). */
  failCode?: CharterErrorCode;
}

export interface SafeResponse {
  status: number;
  contentType: string;
  /** Response header fields, names in lower case (as node:http gives them). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * GET over https with SSRF defences: every resolved address is checked and the
 * socket connects to the checked address (no DNS rebinding window), no
 * redirects, a timeout, and a body cap enforced while streaming.
 */
export function safeFetch(url: string, opts: SafeFetchOptions = {}): Promise<SafeResponse> {
  const failCode = opts.failCode ?? 'DID_RESOLUTION_FAILED';
  const maxBytes = opts.maxBytes ?? 100 * 1024;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new CharterError('INVALID_ARGUMENT', 'not a valid URL'));
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && opts.allowHttp)) {
    return Promise.reject(new CharterError('FORBIDDEN_ADDRESS', `refusing ${u.protocol} URL ${u.host}: only https is allowed`));
  }
  if (u.username || u.password) return Promise.reject(new CharterError('FORBIDDEN_ADDRESS', 'refusing a URL with credentials'));

  // net.connect skips `lookup` for IP literals, so check those here.
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) !== 0 && !addressAllowed(literal, opts)) {
    return Promise.reject(new CharterError('FORBIDDEN_ADDRESS', `refusing non-public address ${u.host} (allow it explicitly for local testing)`));
  }
  let forbidden: string | undefined;
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return (callback as (e: Error | null, a: LookupAddress[]) => void)(err, []);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => !addressAllowed(a.address, opts));
      if (bad || list.length === 0) {
        forbidden = `${hostname} resolves to a ${bad ? 'non-public' : 'missing'} address`;
        return (callback as (e: Error | null, a: LookupAddress[]) => void)(new Error('forbidden address'), []);
      }
      if ((options as { all?: boolean }).all) (callback as (e: Error | null, a: LookupAddress[]) => void)(null, list);
      else (callback as (e: Error | null, a: string, f: number) => void)(null, list[0]!.address, list[0]!.family);
    });
  };

  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: 'GET', lookup, headers: { accept: opts.accept ?? 'application/json', 'user-agent': 'charter' }, timeout: opts.timeoutMs ?? 5000 },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.destroy();
          return reject(new CharterError(failCode, `${u.host} answered with a redirect (${status}); redirects are not followed`));
        }
        if (status !== 200) {
          res.destroy();
          return reject(new CharterError(failCode, `${u.host} answered HTTP ${status}`, { details: { status } }));
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > maxBytes) {
          res.destroy();
          return reject(new CharterError(opts.tooLargeCode ?? 'INPUT_TOO_LARGE', `response from ${u.host} is larger than ${maxBytes} bytes`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            res.destroy();
            reject(new CharterError(opts.tooLargeCode ?? 'INPUT_TOO_LARGE', `response from ${u.host} is larger than ${maxBytes} bytes`));
          } else chunks.push(c);
        });
        res.on('end', () => resolve({ status, contentType: String(res.headers['content-type'] ?? ''), headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (e) => reject(new CharterError(failCode, `reading from ${u.host} failed`, { cause: e })));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      reject(new CharterError(failCode, `${u.host} did not answer within ${opts.timeoutMs ?? 5000} ms`));
    });
    req.on('error', (e) => {
      if (forbidden) reject(new CharterError('FORBIDDEN_ADDRESS', `refusing ${forbidden} (allow it explicitly for local testing)`));
      else reject(new CharterError(failCode, `could not reach ${u.host}`, { cause: e }));
    });
    req.end();
  });
}
