import { CharterError } from '../errors.js';
import { jsonTextProblem } from '../encoding/json.js';
import { safeFetch } from './fetch.js';
import { didWebToUrl } from './web.js';
import type { DIDDocument, ResolveOptions } from './types.js';

/** Fetches a did:web document with the SSRF-safe fetch and checks its shape. */
export async function resolveDidWeb(did: string, options: ResolveOptions): Promise<DIDDocument> {
  const url = didWebToUrl(did, { allowHttp: options.allowHttp === true });
  const res = await safeFetch(url, {
    allowLoopback: options.allowLoopback === true,
    allowPrivate: options.allowPrivate === true,
    allowHttp: options.allowHttp === true,
    timeoutMs: options.timeoutMs ?? 5000,
    maxBytes: options.maxBytes ?? 100 * 1024,
    accept: 'application/did+json, application/json',
    tooLargeCode: 'DID_DOCUMENT_TOO_LARGE',
    failCode: 'DID_RESOLUTION_FAILED',
  }).catch((e: unknown) => {
    if (e instanceof CharterError && e.details?.status === 404) throw new CharterError('DID_NOT_FOUND', `no DID document at ${new URL(url).host}`);
    throw e;
  });
  let doc: unknown;
  let text: string;
  try {
    text = res.body.toString('utf8');
    doc = JSON.parse(text);
  } catch {
    throw new CharterError('DID_RESOLUTION_FAILED', `the DID document of ${did.slice(0, 80)} is not JSON`);
  }
  // RFC 8259 §4: names SHOULD be unique. JSON.parse keeps the last of two, other parsers the first, so one
  // document would name two DIDs or two keys depending on who reads it (JWT decoding refuses the same).
  const problem = jsonTextProblem(text);
  if (problem !== undefined) throw new CharterError('DID_RESOLUTION_FAILED', `the DID document of ${did.slice(0, 80)} ${problem}`);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CharterError('DID_RESOLUTION_FAILED', 'a DID document must be a JSON object');
  if ((doc as { id?: unknown }).id !== did) throw new CharterError('DID_RESOLUTION_FAILED', `the document served for ${did.slice(0, 80)} names another DID`);
  return doc as DIDDocument;
}
