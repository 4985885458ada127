/** Detector-driven masking of values: free text, JSON (parsed and as text), key names, error messages. */
import { describe, expect, it } from 'vitest';
import { keyType, maskString, maskText, scanValue } from '../../src/masking/scan.ts';
import { createMasker, type SensitiveType } from '../../src/masking/strategies.ts';

const masker = createMasker({ hashKey: Buffer.from('test-hash-key-not-a-secret-0123456789') });

function hits(value: unknown, m = masker): { out: unknown; hits: string[] } {
  const seen: string[] = [];
  const out = scanValue(value, m, (detail, _type, strategy) => seen.push(`${detail}/${strategy}`));
  return { out, hits: seen };
}

describe('maskString / maskText', () => {
  it('masks each finding in free text with its type strategy and keeps the rest', () => {
    const note = 'Reach jane.doe@example.com or (415) 555-0123; SSN 123-45-6789; card 4111 1111 1111 1111; token ghp_abcdefghijklmnopqrstuvwxyz0123456789';
    expect(hits(note)).toEqual({
      out: 'Reach ***@example.com or (***) ***-**23; SSN ***-**-6789; card **** **** **** 1111; token [REDACTED:API_TOKEN]',
      hits: ['email/partial', 'phone/partial', 'ssn/partial', 'card/partial', 'api_token/redact'],
    });
  });

  it('returns the very same string when nothing is found', () => {
    const s = 'Shipped 2024-01-15, order ORD-00012345, total 1234.56';
    expect(maskString(s, masker)).toBe(s);
  });

  it('maskText redacts by default, for warehouse errors that echo a value', () => {
    const err = "Numeric value '123-45-6789' is not recognized; near 'jane@example.com' in 'AKIAIOSFODNN7EXAMPLE'";
    expect(maskText(err)).toBe("Numeric value '[REDACTED:SSN]' is not recognized; near '[REDACTED:EMAIL]' in '[REDACTED:AWS_ACCESS_KEY]'");
    expect(maskText('nothing here')).toBe('nothing here');
    expect(maskText('jane@example.com', masker)).toBe('***@example.com');
  });

  it('null strategy: a whole-cell finding becomes null, a finding inside text is redacted', () => {
    const m = createMasker({ hashKey: Buffer.alloc(32), strategies: { email: 'null' } });
    expect(maskString(' jane@example.com ', m)).toBeNull();
    expect(maskString('mail jane@example.com now', m)).toBe('mail [REDACTED:EMAIL] now');
  });

  it('hash strategy inside text gives the same token as a hashed column', () => {
    const m = createMasker({ hashKey: Buffer.alloc(32, 3), strategies: { email: 'hash' } });
    expect(maskString('from Jane@Example.com', m)).toBe(`from ${m.apply('jane@example.com', 'email', 'hash')}`);
  });

  it('generalize and detect cannot mask a span: findings are redacted', () => {
    const m = createMasker({ hashKey: Buffer.alloc(32), strategies: { ssn: 'generalize', card: 'detect' } });
    expect(maskString('123-45-6789 / 4111111111111111', m)).toBe('[REDACTED:SSN] / [REDACTED:CARD]');
  });
});

describe('JSON walk', () => {
  it('masks by key name and by value, in parsed objects, without mutating the input', () => {
    const input = {
      customer: {
        ssn: '123-45-6789',
        contactEmail: 'jane@example.com',
        card_number: '4111111111111111',
        date_of_birth: '1985-03-14',
        password: 'hunter2-not-real',
        notes: 'call +1-415-555-0123',
        tokens_used: 5,
        email_verified: true,
        city: 'Springfield',
      },
      history: [{ ip: '10.1.2.3' }, 'seen at 192.168.0.9'],
    };
    const copy = structuredClone(input);
    const { out, hits: seen } = hits(input);
    expect(out).toEqual({
      customer: {
        ssn: '***-**-6789',
        contactEmail: '***@example.com',
        card_number: '************1111',
        date_of_birth: '1985',
        password: '[REDACTED:SECRET]',
        notes: 'call +*-***-***-**23',
        tokens_used: 5,
        email_verified: true,
        city: 'Springfield',
      },
      history: [{ ip: '10.1.*.*' }, 'seen at 192.168.*.*'],
    });
    expect(input).toEqual(copy);
    expect(seen).toEqual(['key:ssn/partial', 'key:email/partial', 'key:card/partial', 'key:dob/generalize', 'key:secret/redact', 'phone/partial', 'key:ip/partial', 'ipv4/partial']);
  });

  it('passes a key type down into nested values', () => {
    expect(hits({ ssn: { value: '123456789', list: ['078-05-1120'] } }).out).toEqual({ ssn: { value: '***-**-6789', list: ['***-**-1120'] } });
    expect(hits({ secret: [1, 'two', { three: 'x' }] }).out).toEqual({ secret: ['[REDACTED:SECRET]', '[REDACTED:SECRET]', { three: '[REDACTED:SECRET]' }] });
  });

  it('walks JSON text and re-serializes only when something changed', () => {
    expect(hits('{"ssn":"123-45-6789","x":[1,2,"a@example.com"]}').out).toBe('{"ssn":"***-**-6789","x":[1,2,"***@example.com"]}');
    const clean = '{"sku": "SKU-1234", "qty": 2}';
    expect(hits(clean).out).toBe(clean);
    expect(hits('[{"phone":"(415) 555-0123"}]').out).toBe('[{"phone":"(***) ***-**23"}]');
    expect(hits('{"payload":"{\\"email\\":\\"a@example.com\\"}"}').out).toBe('{"payload":"{\\"email\\":\\"***@example.com\\"}"}');
  });

  it('scans broken JSON as text', () => {
    expect(hits('{"ssn": "123-45-6789", oops').out).toBe('{"ssn": "***-**-6789", oops');
  });

  it('masks integers that are card numbers, leaves other numbers and booleans', () => {
    expect(hits(4111111111111111)).toEqual({ out: '************1111', hits: ['card/partial'] });
    expect(hits(1700000000000).out).toBe(1700000000000);
    expect(hits(true).out).toBe(true);
    expect(hits(12345678901234567890n).out).toBe(12345678901234567890n);
  });

  it('redacts beyond a nesting depth instead of recursing without end', () => {
    let deep: unknown = 'a@example.com';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(JSON.stringify(hits(deep).out)).toContain('[REDACTED:TOO_DEEP]');
  });

  it.each<[string, SensitiveType | undefined]>([
    ['ssn', 'ssn'],
    ['customer_ssn', 'ssn'],
    ['SocialSecurityNumber', 'ssn'],
    ['email', 'email'],
    ['contactEmail', 'email'],
    ['email_address', 'email'],
    ['password', 'secret'],
    ['accessToken', 'secret'],
    ['api_key', 'secret'],
    ['SecretAccessKey', 'secret'],
    ['cvv', 'secret'],
    ['card', 'card'],
    ['cardNumber', 'card'],
    ['credit_card', 'card'],
    ['phone', 'phone'],
    ['mobile', 'phone'],
    ['dob', 'dob'],
    ['date_of_birth', 'dob'],
    ['birthDate', 'dob'],
    ['salary', 'salary'],
    ['first_name', 'name'],
    ['lastName', 'name'],
    ['street_address', 'address'],
    ['ip_address', 'ip'],
    ['iban', 'iban'],
    ['tokens_used', undefined],
    ['card_type', undefined],
    ['mac_address', undefined],
    ['name', undefined],
    ['status', undefined],
    ['shipping', undefined],
  ])('keyType(%s) = %s', (key, type) => {
    expect(keyType(key)).toBe(type);
  });
});
