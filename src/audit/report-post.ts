import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { CharterError } from '../errors.js';
import { addressAllowed, type AddressPolicy } from '../did/index.js';

export interface ReportPostOptions extends AddressPolicy {
  /** Allow `http:` URLs (a grantor's server on loopback, for testing). */
  allowHttp?: boolean;
  /** Wall-clock deadline for the whole exchange, ms. */
  timeoutMs: number;
  /** Largest answer read, bytes. */
  maxBytes: number;
}

const MAX_DEADLINE_MS = 2 ** 31 - 1;

/**
 * POSTs one access report under safeFetch's rules (did/fetch.ts), which only
 * GETs: https only (http with allowHttp), no credentials in the URL, every
 * resolved address checked against the policy and the socket connected to
 * the checked one, no redirect followed, one deadline for the whole
 * exchange and the answer's size capped while it streams. Resolves with any
 * status the server answered (a refusal is an answer); every failure is a
 * CharterError: FORBIDDEN_ADDRESS (scheme, address), INVALID_ARGUMENT (not
 * a URL, bad options), INPUT_TOO_LARGE (the answer), UNREACHABLE (the rest).
 */
export function postReport(url: string, body: string, opts: ReportPostOptions): Promise<{ status: number; body: Buffer }> {
  const { timeoutMs, maxBytes } = opts;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_DEADLINE_MS) {
    return Promise.reject(new CharterError('INVALID_ARGUMENT', `timeoutMs must be a positive number of milliseconds (at most ${MAX_DEADLINE_MS})`));
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) return Promise.reject(new CharterError('INVALID_ARGUMENT', 'maxBytes must be a positive whole number of bytes'));
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new CharterError('INVALID_ARGUMENT', 'not a valid URL'));
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && opts.allowHttp === true)) {
    return Promise.reject(new CharterError('FORBIDDEN_ADDRESS', `refusing ${u.protocol} URL ${u.host}: only https is allowed (http with allowHttp)`));
  }
  if (u.username || u.password) return Promise.reject(new CharterError('FORBIDDEN_ADDRESS', 'refusing a URL with credentials'));
  const policy: AddressPolicy = { allowLoopback: opts.allowLoopback === true, allowPrivate: opts.allowPrivate === true };
  // net.connect skips `lookup` for IP literals, so check those here.
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) !== 0 && !addressAllowed(literal, policy)) {
    return Promise.reject(new CharterError('FORBIDDEN_ADDRESS', `refusing non-public address ${u.host} (allowLoopback / allowPrivate allow it)`));
  }
  let forbidden: string | undefined;
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      const cb = callback as (e: Error | null, a: LookupAddress[] | string, f?: number) => void;
      if (err) return cb(err, []);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => !addressAllowed(a.address, policy));
      if (bad || list.length === 0) {
        forbidden = `${hostname} resolves to a ${bad ? 'non-public' : 'missing'} address`;
        return cb(new Error('forbidden address'), []);
      }
      if ((options as { all?: boolean }).all) cb(null, list);
      else cb(null, list[0]!.address, list[0]!.family);
    });
  };
  const data = Buffer.from(body, 'utf8');

  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const fail = (e: CharterError) =>
      settle(() => {
        req.destroy();
        reject(e);
      });
    const tooLarge = () => new CharterError('INPUT_TOO_LARGE', `the answer from ${u.host} is larger than ${maxBytes} bytes`);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: 'POST',
        lookup,
        // A connection of its own: no pooled socket checked under another policy carries this request.
        agent: false,
        headers: { 'content-type': 'application/jwt', 'content-length': String(data.length), accept: 'application/json', 'user-agent': 'charter' },
        timeout: timeoutMs,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) return fail(new CharterError('UNREACHABLE', `${u.host} answered with a redirect (${status}); redirects are not followed`));
        if (Number(res.headers['content-length'] ?? NaN) > maxBytes) return fail(tooLarge());
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) fail(tooLarge());
          else chunks.push(c);
        });
        res.on('end', () => {
          if (!res.complete) return fail(new CharterError('UNREACHABLE', `${u.host} closed the connection before the end of its answer`));
          settle(() => resolve({ status, body: Buffer.concat(chunks) }));
        });
        res.on('error', (e) => fail(new CharterError('UNREACHABLE', `reading from ${u.host} failed`, { cause: e })));
        res.on('close', () => {
          if (!res.complete) fail(new CharterError('UNREACHABLE', `${u.host} closed the connection before the end of its answer`));
        });
      },
    );
    timer = setTimeout(() => fail(new CharterError('UNREACHABLE', `${u.host} did not answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => fail(new CharterError('UNREACHABLE', `${u.host} went silent for ${timeoutMs} ms`)));
    req.on('error', (e) => {
      if (forbidden) fail(new CharterError('FORBIDDEN_ADDRESS', `refusing ${forbidden} (allowLoopback / allowPrivate allow it)`));
      else fail(new CharterError('UNREACHABLE', `could not reach ${u.host}`, { cause: e }));
    });
    req.end(data);
  });
}
