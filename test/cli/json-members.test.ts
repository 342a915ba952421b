import { describe, expect, it } from 'vitest';
import { inProcess } from './harness.js';
import { tempDir } from '../helpers.js';

describe('--json prints signed members as signed', () => {
  it('a member named "__proto__" stays a member of the output, and lends it nothing', async () => {
    const run = inProcess(tempDir('charter-json-members-'), () => 'correct horse battery staple');
    expect((await run(['init'])).code).toBe(0);
    await run(['id', 'create', '--alias', 'alice']);
    await run(['id', 'create', '--alias', 'bob']);
    const claims = '{"__proto__":{"code":"X","message":"injected"},"email":"a@b.c"}';
    const issued = JSON.parse((await run(['vc', 'issue', '--as', 'alice', '--subject', 'bob', '--type', 'EmailCredential', '--claims', '-', '--json'], claims)).out) as {
      jwt: string;
    };
    const r = await run(['vc', 'verify', issued.jwt, '--json']);
    expect(r.code).toBe(0);
    // Parsed as JSON.parse reads it: "__proto__" is an own member there too.
    const subject = (JSON.parse(r.out) as { credential: { credentialSubject: Record<string, unknown> } }).credential.credentialSubject;
    expect(Object.hasOwn(subject, '__proto__')).toBe(true);
    expect(subject['__proto__']).toEqual({ code: 'X', message: 'injected' });
    expect(Object.hasOwn(subject, 'message')).toBe(false);
    expect(subject.email).toBe('a@b.c');
  });
});
