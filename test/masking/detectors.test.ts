/**
 * Value detectors: for each, values it must find (alone and inside text), and
 * invalid or near-miss values it must leave alone. Every value is fake: card
 * numbers are the networks' published test numbers, SSNs are outside or inside
 * the SSA ranges by construction, phones are in the fictional 555-01xx range.
 */
import { describe, expect, it } from 'vitest';
import { createRng, fakeCardNumber, fakePhone, fakeSsn } from '../../src/emulator/seed/pii.ts';
import {
  findSensitive,
  isCardNumber,
  isIpv6,
  isJwt,
  isValidIban,
  isValidSsn,
  knownCardPrefix,
  luhnValid,
  numberMayBeCard,
  type DetectorKind,
} from '../../src/masking/detectors.ts';

/** What the detectors find in `text`, as `kind:value`. */
const found = (text: string, bareSsn = false) => findSensitive(text, bareSsn ? { bareSsn } : undefined).map((f) => `${f.kind}:${text.slice(f.start, f.end)}`);

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: 'agent-7', iat: 1700000000 })}.c2lnbmF0dXJlLW5vdC1yZWFs`;
const NOT_JWT = `${b64url({ typ: 'JWT' })}.${b64url({ sub: 'agent-7' })}.c2lnbmF0dXJl`; // header without alg

/** [detector, value that must be found whole]. */
const VALID: Array<[DetectorKind, string]> = [
  ['email', 'jane.doe@example.com'],
  ['email', 'o.reilly+tag@mail.example.co.uk'],
  ['email', 'X_Y%Z@sub-domain.example.org'],
  ['email', "o'brien@example.com"],
  ['ssn', '123-45-6789'],
  ['ssn', '078-05-1120'],
  ['ssn', '665 12 3456'],
  ['ssn', '899-99-9999'],
  ['card', '4111 1111 1111 1111'],
  ['card', '4111-1111-1111-1111'],
  ['card', '4111111111111111'],
  ['card', '5555555555554444'],
  ['card', '2223003122003222'],
  ['card', '3782 822463 10005'],
  ['card', '6011111111111117'],
  ['card', '3530111333300000'],
  ['card', '30569309025904'],
  ['card', '4222222222222'],
  ['phone', '(415) 555-0123'],
  ['phone', '+1-415-555-0199'],
  ['phone', '415-555-0142'],
  ['phone', '415.555.0142'],
  ['phone', '1 212 555 0100'],
  ['phone', '+44 20 7946 0958'],
  ['phone', '+4930901820'],
  ['iban', 'GB82 WEST 1234 5698 7654 32'],
  ['iban', 'GB82WEST12345698765432'],
  ['iban', 'DE89 3704 0044 0532 0130 00'],
  ['iban', 'FR1420041010050500013M02606'],
  ['iban', 'NO9386011117947'],
  ['ipv4', '192.168.10.42'],
  ['ipv4', '8.8.4.4'],
  ['ipv6', '2001:db8::ff00:42:8329'],
  ['ipv6', '2001:0db8:85a3:0000:0000:8a2e:0370:7334'],
  ['ipv6', 'fe80::1ff:fe23:4567:890a'],
  ['aws_access_key', 'AKIAIOSFODNN7EXAMPLE'],
  ['aws_access_key', 'ASIAY34FZKBOKMUTVV7A'],
  ['jwt', JWT],
  ['api_token', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'],
  ['api_token', 'xoxp-1234567890-abcdefghij'],
  ['api_token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
  ['api_token', 'gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'],
  ['api_token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz'],
  ['api_token', 'sk-proj-abc123DEF456ghi789JKL012mno'],
  ['api_token', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
  ['api_token', 'glpat-xxxxxxxx1234yyyyzzzz'],
];

/** Values no detector may report (as a whole or in part). */
const CLEAN: Array<[string, string]> = [
  ['Luhn-failing card', '4111 1111 1111 1112'],
  ['Luhn-valid but unknown IIN', '1234 5678 9012 3452'],
  ['epoch milliseconds', '1700000000000'],
  ['SSN area 000', '000-12-3456'],
  ['SSN area 666', '666-12-3456'],
  ['SSN area 9xx', '912-34-5678'],
  ['SSN group 00', '123-00-4567'],
  ['SSN serial 0000', '123-45-0000'],
  ['bare nine digits without context', 'routing 021000021 zip 941031234 order 123456789'],
  ['SSN-shaped part of a longer id', 'ref 2024-123-45-6789-A'],
  ['IBAN with a bad checksum', 'GB82 WEST 1234 5698 7654 33'],
  ['IBAN of the wrong length', 'GB82WEST123456987654'],
  ['order id that looks like a phone', 'ORD-415-555-0123'],
  ['bare ten digits', 'customer 4155550123'],
  ['N11 service code', '911-555-0123'],
  ['ISO timestamp', '2024-01-15T10:30:00.123Z'],
  ['Snowflake timestamp', '1705314600.000000000 1440'],
  ['time of day', '10:30:00'],
  ['MAC address', '00:1A:2B:3C:4D:5E'],
  ['UUID', '550e8400-e29b-41d4-a716-446655440000'],
  ['amount', '1234567.89'],
  ['amount with thousands', '$1,234,567.89'],
  ['long decimal', '0.4111111111111111'],
  ['version string', 'v1.2.3.4 and 10.0.19041.1'],
  ['code with ::', 'std::vector and a::b'],
  ['image file name', 'icon@2x.png'],
  ['local email', 'root@localhost'],
  ['handle', '@jane_doe'],
  ['hex digest', 'sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 near the word secret'],
  ['JWT-shaped without alg', NOT_JWT],
  ['words after sk-', 'task-list-with-many-hyphenated-words'],
  ['short token-like', 'ghp_short'],
  ['IPv4 out of range', '256.1.1.1'],
  ['date', '1985-03-14'],
];

describe('detectors', () => {
  it.each(VALID)('%s finds %s alone and inside text', (kind, value) => {
    expect(found(value)).toEqual([`${kind}:${value}`]);
    expect(found(`note: ${value}, see above.`)).toEqual([`${kind}:${value}`]);
  });

  it.each(CLEAN)('leaves alone: %s', (_what, text) => {
    expect(found(text)).toEqual([]);
  });

  it('finds several values in one free-text note, in order', () => {
    const note = 'Called jane.doe@example.com at (415) 555-0123; SSN 123-45-6789, paid with 4111 1111 1111 1111 from 10.0.0.7.';
    expect(found(note)).toEqual([
      'email:jane.doe@example.com',
      'phone:(415) 555-0123',
      'ssn:123-45-6789',
      'card:4111 1111 1111 1111',
      'ipv4:10.0.0.7',
    ]);
  });

  it('does not take a quote before an email as part of it', () => {
    expect(found("near 'jane@example.com' in")).toEqual(['email:jane@example.com']);
  });

  it('takes a bare nine-digit SSN only after an SSN keyword, or when asked', () => {
    expect(found('SSN: 123456789')).toEqual(['ssn:123456789']);
    expect(found('social security number 123456789')).toEqual(['ssn:123456789']);
    expect(found('order 123456789')).toEqual([]);
    expect(found('123456789', true)).toEqual(['ssn:123456789']);
    expect(found('SSN: 666123456')).toEqual([]);
  });

  it('finds a card inside a longer digit run (card followed by an expiry)', () => {
    expect(found('4111 1111 1111 1111 1225')).toEqual(['card:4111 1111 1111 1111']);
  });

  it('takes a 40-character AWS secret key only near an access key or a key-ish name', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    expect(found(`AKIAIOSFODNN7EXAMPLE ${secret}`)).toEqual(['aws_access_key:AKIAIOSFODNN7EXAMPLE', `aws_secret_key:${secret}`]);
    expect(found(`{"SecretAccessKey": "${secret}"}`)).toEqual([`aws_secret_key:${secret}`]);
    expect(found(`checksum ${secret}`)).toEqual([]);
  });

  it('finds PEM private keys, also truncated ones, but not public keys or certificates', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----';
    expect(found(`key:\n${pem}\nend`)).toEqual([`private_key:${pem}`]);
    const cut = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ';
    expect(found(cut)).toEqual([`private_key:${cut}`]);
    expect(found('-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----')).toEqual([]);
  });

  it('prefers the higher-priority finding where two overlap', () => {
    // The IBAN's digits would also make a Luhn-plausible run; the JWT holds base64 that could look like anything.
    expect(found('GB82WEST12345698765432').map((f) => f.split(':')[0])).toEqual(['iban']);
    expect(found(`Bearer ${JWT}`).map((f) => f.split(':')[0])).toEqual(['jwt']);
  });

  it('finds seeded fake values of every generator', () => {
    const rng = createRng(42);
    for (let i = 0; i < 500; i++) {
      const ssn = fakeSsn(rng);
      const card = fakeCardNumber(rng);
      const phone = fakePhone(rng);
      expect(found(`ssn ${ssn}`)).toEqual([`ssn:${ssn}`]);
      expect(found(`card ${card}`)).toEqual([`card:${card}`]);
      expect(found(`tel ${phone}`)).toEqual([`phone:${phone}`]);
    }
  });

  it('stays linear on long adversarial input (grows with the input, not with its square)', () => {
    // A ratio within one run, not a wall-clock bound (the machine is shared): 8x the input must cost
    // far less than the 64x a quadratic scan would; the best of three runs of each damps noise.
    const input = (n: number) => `${'a'.repeat(n)}@${'1'.repeat(n)} ${'1-'.repeat(n / 2)} ${':'.repeat(n / 4)}`;
    const best = (text: string) => {
      let fastest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        findSensitive(text);
        fastest = Math.min(fastest, performance.now() - t0);
      }
      return fastest;
    };
    const small = best(input(6_000));
    const large = best(input(48_000));
    expect(large / Math.max(small, 0.5)).toBeLessThan(32);
  });
});

describe('validators', () => {
  it.each<[string, boolean]>([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['79927398713', true],
    ['', false],
  ])('luhnValid(%s) = %s', (n, ok) => expect(luhnValid(n)).toBe(ok));

  it.each<[string, boolean]>([
    ['4111111111111111', true],
    ['411111111111111', false], // Visa has no 15-digit numbers
    ['378282246310005', true],
    ['3782822463100050', false], // Amex is 15 digits
    ['1111111111111117', false],
  ])('knownCardPrefix(%s) = %s', (n, ok) => expect(knownCardPrefix(n)).toBe(ok));

  it('isCardNumber needs prefix, length and Luhn', () => {
    expect(isCardNumber('5555 5555 5555 4444')).toBe(true);
    expect(isCardNumber('5555 5555 5555 4445')).toBe(false);
    expect(isCardNumber('4111')).toBe(false);
  });

  it.each<[string, boolean]>([
    ['123-45-6789', true],
    ['123456789', true],
    ['000-45-6789', false],
    ['666-45-6789', false],
    ['900-45-6789', false],
    ['999-45-6789', false],
    ['123-00-6789', false],
    ['123-45-0000', false],
    ['12-345-6789', false],
  ])('isValidSsn(%s) = %s', (s, ok) => expect(isValidSsn(s)).toBe(ok));

  it.each<[string, boolean]>([
    ['GB82WEST12345698765432', true],
    ['GB82 WEST 1234 5698 7654 32', true],
    ['GB82WEST12345698765431', false],
    ['XX82WEST12345698765432', false],
    ['DE89370400440532013000', true],
  ])('isValidIban(%s) = %s', (s, ok) => expect(isValidIban(s)).toBe(ok));

  it.each<[string, boolean]>([
    ['2001:db8::1', true],
    ['::1', false],
    ['1:2:3:4:5:6:7:8', true],
    ['1:2:3:4:5:6:7', false],
    ['1::2::3', false],
    ['12345::1:2', false],
  ])('isIpv6(%s) = %s', (s, ok) => expect(isIpv6(s)).toBe(ok));

  it('isJwt needs a header with alg', () => {
    expect(isJwt(JWT)).toBe(true);
    expect(isJwt(NOT_JWT)).toBe(false);
    expect(isJwt('eyJub3QganNvbg.eyJ4IjoxfQ.sig')).toBe(false);
  });

  it('numberMayBeCard: integers of card length with a card prefix and Luhn', () => {
    expect(numberMayBeCard(4111111111111111)).toBe(true);
    expect(numberMayBeCard(4111111111111112)).toBe(false);
    expect(numberMayBeCard(1700000000000)).toBe(false);
    expect(numberMayBeCard(42)).toBe(false);
    expect(numberMayBeCard(4111.5)).toBe(false);
  });
});
