import type { IncomingMessage } from 'node:http';
import { CharterError } from '../errors.js';

/** Largest body the guard reads itself to check a Content-Digest. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Whether a request may carry a body. HTTP/1.1 (RFC 9112 §6.3): when it says so, Transfer-Encoding or a
 * Content-Length above 0. HTTP/2 and later (RFC 9113 §8.1): a body comes in DATA frames and needs no
 * Content-Length, so only a stream its HEADERS frame ended (END_STREAM) has none; anything else is read
 * (an empty body reads as empty), never assumed empty.
 */
export function hasBody(req: IncomingMessage): boolean {
  if (req.httpVersionMajor >= 2) return (req as { stream?: { endAfterHeaders?: unknown } }).stream?.endAfterHeaders !== true;
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > 0;
}

const kept = new WeakMap<IncomingMessage, Promise<Buffer>>();

/**
 * Reads a Node request's body, once (a second call gets the same bytes),
 * at most `maxBytes` (INPUT_TOO_LARGE beyond). TypeError when something
 * read the stream before without keeping its bytes: the guard cannot check
 * a Content-Digest against a body it never saw.
 */
export function readNodeBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const done = kept.get(req);
  if (done) return done;
  if (!hasBody(req)) return Promise.resolve(Buffer.alloc(0));
  if (req.readableDidRead || req.readableEnded) {
    return Promise.reject(new TypeError('the request body was read before the guard and its bytes were not kept, so its Content-Digest cannot be checked'));
  }
  const p = new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.resume(); // drain the rest, so the refusal can still be written
        reject(new CharterError('INPUT_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
  kept.set(req, p);
  return p;
}

/**
 * A web-standard Request's body (Hono, Bun, Deno, undici) under the same cap:
 * a Content-Length over it is refused unread, and a stream is read only up to
 * it (INPUT_TOO_LARGE beyond), as readNodeBody does for Node.
 */
export async function readWebBody(request: Request, maxBytes = MAX_BODY_BYTES): Promise<Uint8Array> {
  const tooLarge = () => new CharterError('INPUT_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`);
  const length = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(length) && length > maxBytes) throw tooLarge();
  if (request.body === null) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
