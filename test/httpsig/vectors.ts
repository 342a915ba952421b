import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Published vectors, read where they live (never copied into the repo): ../shared/vectors/httpsig/. */
export const VECTORS = resolve(__dirname, '../../../shared/vectors/httpsig');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form vector JSON: each test reads the fields it checks
export function vectors<T = any>(name: string): T {
  return JSON.parse(readFileSync(resolve(VECTORS, name), 'utf8')) as T;
}

export interface ParsedMessage {
  method?: string;
  path?: string;
  status?: number;
  headers: Record<string, string[]>;
  body: string;
}

/** Parses the HTTP/1.1 text of a vector ("POST /foo HTTP/1.1\nHost: ...\n\nbody"). */
export function parseHttp(text: string): ParsedMessage {
  const [head, ...rest] = text.split('\n\n');
  const [start, ...lines] = head!.split('\n');
  const headers: Record<string, string[]> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    const name = l.slice(0, i).toLowerCase();
    (headers[name] ??= []).push(l.slice(i + 1).trim());
  }
  const parts = start!.split(' ');
  if (start!.startsWith('HTTP/')) return { status: Number(parts[1]), headers, body: rest.join('\n\n') };
  return { method: parts[0]!, path: parts[1]!, headers, body: rest.join('\n\n') };
}

/** A vector request as Charter's verifier takes it: method, absolute https URL, headers. */
export function vectorRequest(text: string, extra: Record<string, string> = {}): { method: string; url: string; headers: Record<string, string | string[]> } {
  const m = parseHttp(text);
  const headers: Record<string, string | string[]> = { ...m.headers };
  for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v;
  return { method: m.method!, url: `https://${m.headers.host![0]}${m.path}`, headers };
}

/** Splits "label=value" of a one-member Signature / Signature-Input vector. */
export function member(field: string): { label: string; value: string } {
  const i = field.indexOf('=');
  return { label: field.slice(0, i), value: field.slice(i + 1) };
}
