/** Masking strategies: exact outputs per type and strategy, defaults and overrides. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SENSITIVE_TYPES } from '../../src/policy/schema.ts';
import { createMasker, DEFAULT_STRATEGIES, STRATEGIES, type SensitiveType, type Strategy } from '../../src/masking/strategies.ts';

const KEY = Buffer.from('test-hash-key-not-a-secret-0123456789');
const masker = createMasker({ hashKey: KEY });

describe('strategies', () => {
  it.each<[SensitiveType, Strategy, unknown, unknown]>([
    // redact
    ['ssn', 'redact', '123-45-6789', '[REDACTED:SSN]'],
    ['free_text', 'redact', 'anything', '[REDACTED:FREE_TEXT]'],
    ['restricted', 'redact', { a: 1 }, '[REDACTED:RESTRICTED]'],
    // partial
    ['ssn', 'partial', '123-45-6789', '***-**-6789'],
    ['ssn', 'partial', '123456789', '***-**-6789'],
    ['ssn', 'partial', 123456789, '***-**-6789'],
    ['ssn', 'partial', 'n/a', '[REDACTED:SSN]'],
    ['card', 'partial', '4111 1111 1111 1111', '**** **** **** 1111'],
    ['card', 'partial', '4111111111111111', '************1111'],
    ['card', 'partial', 4111111111111111, '************1111'],
    ['card', 'partial', '3782-822463-10005', '****-******-*0005'],
    ['card', 'partial', '1234', '[REDACTED:CARD]'],
    ['email', 'partial', 'Jane.Doe@Example.COM', '***@example.com'],
    ['email', 'partial', 'not an email', '[REDACTED:EMAIL]'],
    ['phone', 'partial', '+1-415-555-0123', '+*-***-***-**23'],
    ['phone', 'partial', '(415) 555-0199', '(***) ***-**99'],
    ['phone', 'partial', '12', '[REDACTED:PHONE]'],
    ['iban', 'partial', 'GB82 WEST 1234 5698 7654 32', 'GB** **** **** **** **54 32'],
    ['name', 'partial', 'jane van der berg', 'J. V. D. B.'],
    ['ip', 'partial', '192.168.10.42', '192.168.*.*'],
    ['ip', 'partial', '2001:db8::1', '2001:db8:*'],
    ['address', 'partial', '1 Main St', '[REDACTED:ADDRESS]'],
    ['secret', 'partial', 'hunter2', '[REDACTED:SECRET]'],
    ['dob', 'partial', '1985-03-14', '1985'],
    // null
    ['email', 'null', 'jane@example.com', null],
    ['card', 'null', 4111111111111111, null],
    // generalize
    ['dob', 'generalize', '1985-03-14', '1985'],
    ['dob', 'generalize', '1985-03-14T00:00:00.000Z', '1985'],
    ['dob', 'generalize', '03/14/1985', '1985'],
    ['dob', 'generalize', new Date(Date.UTC(1990, 6, 1)), '1990'],
    ['dob', 'generalize', 'unknown', '[REDACTED:DOB]'],
    ['salary', 'generalize', 87250, '80000-90000'],
    ['salary', 'generalize', '87250.50', '80000-90000'],
    ['salary', 'generalize', 90000, '90000-100000'],
    ['salary', 'generalize', -500, '-10000-0'],
    ['salary', 'generalize', 'confidential', '[REDACTED:SALARY]'],
    ['restricted', 'generalize', 42, '0-10000'],
    ['address', 'generalize', '1 Main St', '[REDACTED:ADDRESS]'],
    // detect is the transform's job: alone, a strategy redacts
    ['pii', 'detect', 'x', '[REDACTED:PII]'],
  ])('%s %s %j → %j', (type, strategy, value, expected) => {
    expect(masker.apply(value, type, strategy)).toEqual(expected);
    expect(masker.compile(type, strategy)(value)).toEqual(expected);
  });

  it('hash: tok_ + first 16 hex of HMAC-SHA256 over the normalized value, stable across calls and maskers', () => {
    const expected = `tok_${createHmac('sha256', KEY).update('jane@example.com').digest('hex').slice(0, 16)}`;
    expect(masker.apply('jane@example.com', 'email', 'hash')).toBe(expected);
    expect(masker.apply(' Jane@Example.com ', 'email', 'hash')).toBe(expected);
    expect(createMasker({ hashKey: KEY }).apply('jane@example.com', 'email', 'hash')).toBe(expected);
    expect(createMasker({ hashKey: Buffer.from('another-key-0123456789') }).apply('jane@example.com', 'email', 'hash')).not.toBe(expected);
    // One spelling per value, so agents can join and count distinct.
    expect(masker.apply('123-45-6789', 'ssn', 'hash')).toBe(masker.apply(123456789, 'ssn', 'hash'));
    expect(masker.apply('+1-415-555-0123', 'phone', 'hash')).toBe(masker.apply('(415) 555-0123', 'phone', 'hash'));
    expect(masker.apply('Ava', 'name', 'hash')).not.toBe(masker.apply('Ava2', 'name', 'hash'));
    expect(masker.apply('Ava', 'name', 'hash')).toMatch(/^tok_[0-9a-f]{16}$/);
  });

  it('hash keeps working past the token cache size', () => {
    const first = masker.token('value-0', 'name');
    for (let i = 1; i < 10_000; i++) masker.token(`value-${i}`, 'name');
    expect(masker.token('value-0', 'name')).toBe(first);
  });

  it('has a default for every sensitive type of the policy schema, and every default is a known strategy', () => {
    expect(Object.keys(DEFAULT_STRATEGIES).sort()).toEqual([...SENSITIVE_TYPES].sort());
    for (const s of Object.values(DEFAULT_STRATEGIES)) expect(STRATEGIES).toContain(s);
    expect(DEFAULT_STRATEGIES).toMatchObject({
      ssn: 'partial', email: 'partial', card: 'partial', phone: 'partial', name: 'hash', address: 'redact',
      dob: 'generalize', salary: 'generalize', free_text: 'detect', secret: 'redact', restricted: 'redact', pii: 'redact',
    });
  });

  it('takes per-type overrides and a band width', () => {
    const m = createMasker({ hashKey: KEY, strategies: { email: 'hash', ssn: 'redact' }, bucketSize: 25_000 });
    expect(m.strategyFor('email')).toBe('hash');
    expect(m.strategyFor('ssn')).toBe('redact');
    expect(m.strategyFor('card')).toBe('partial');
    expect(m.apply(87250, 'salary', 'generalize')).toBe('75000-100000');
  });

  it('rejects a short hash key and a non-positive band', () => {
    expect(() => createMasker({ hashKey: Buffer.from('short') })).toThrow(RangeError);
    expect(() => createMasker({ hashKey: KEY, bucketSize: 0 })).toThrow(RangeError);
  });
});
