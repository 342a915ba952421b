import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as formatsModule from 'ajv-formats';
import type { Reason } from '../errors.js';
import { subjectsOf } from './subjects.js';
import type { Credential, SchemaChecker } from './types.js';

export const SCHEMA_BASE = 'https://charter.dev/schemas/';
/** schemas/ at the package root, from src/credentials or dist/credentials alike. */
export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

type FormatsPlugin = (ajv: Ajv2020) => unknown;
const addFormats = (formatsModule as unknown as { default: FormatsPlugin | { default: FormatsPlugin } }).default;
const plugin: FormatsPlugin = typeof addFormats === 'function' ? addFormats : addFormats.default;

export function schemaIdFor(type: string): string | undefined {
  return existsSync(`${SCHEMA_DIR}${type}.json`) ? `${SCHEMA_BASE}${type}.json` : undefined;
}

/**
 * Validates `credentialSubject` against the credential's `credentialSchema`
 * (JSON Schema 2020-12, compiled once). A schema id we do not hold is refused:
 * a verifier cannot vouch for a shape it cannot check.
 */
export function createSchemaChecker(dir: string = SCHEMA_DIR): SchemaChecker {
  const ajv = new Ajv2020({ allErrors: false, strict: true });
  plugin(ajv);
  const validators = new Map<string, ValidateFunction>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const schema = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as { $id: string };
    validators.set(schema.$id, ajv.compile(schema));
  }
  return (credential: Credential): Reason[] => {
    const named = credential.credentialSchema === undefined ? [] : Array.isArray(credential.credentialSchema) ? credential.credentialSchema : [credential.credentialSchema];
    // A credential of one of Charter's own types meets that type's schema whether or not it names it:
    // code downstream reads those fields as the schema promises (a usage count of -10, a score of "1").
    const ids = new Set(named.map((r) => (typeof r === 'object' && r !== null ? r.id : undefined)));
    const implied = (Array.isArray(credential.type) ? credential.type : [])
      .map((t) => `${SCHEMA_BASE}${String(t)}.json`)
      .filter((id) => validators.has(id) && !ids.has(id))
      .map((id) => ({ id, type: 'JsonSchema' }));
    const refs = [...named, ...implied];
    const out: Reason[] = [];
    for (const ref of refs) {
      if (typeof ref !== 'object' || ref === null || ref.type !== 'JsonSchema' || typeof ref.id !== 'string') {
        out.push({ code: 'SCHEMA_INVALID', message: 'credentialSchema must be { id, type: "JsonSchema" }' });
        continue;
      }
      const v = validators.get(ref.id);
      if (!v) {
        out.push({ code: 'SCHEMA_INVALID', message: `unknown credential schema ${ref.id.slice(0, 120)}` });
        continue;
      }
      // Each subject of a credential about several (VCDM 2.0 "Credential Subject") meets the schema on its own.
      subjectsOf(credential).forEach((subject, i, all) => {
        if (v(subject)) return;
        const e = v.errors?.[0];
        const at = all.length > 1 ? `[${i}]` : '';
        out.push({
          code: 'SCHEMA_INVALID',
          message: `credentialSubject${at}${e?.instancePath ?? ''} ${e?.message ?? 'does not match its schema'} (${ref.id.slice(SCHEMA_BASE.length)})`,
        });
      });
    }
    return out;
  };
}

let shared: SchemaChecker | undefined;
/** The checker for Charter's own schemas/, built on first use. */
export function defaultSchemaChecker(): SchemaChecker {
  return (shared ??= createSchemaChecker());
}
