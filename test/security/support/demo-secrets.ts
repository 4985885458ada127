/**
 * The raw PII of the emulator's demo data set, read out of a real DuckDB
 * seeded by the same module the emulator uses (`seedDemo`, deterministic), and
 * a scanner that finds any of it, or an easy rewrite of it, in a text.
 *
 * The scanner does not search 100k strings one by one: it pulls candidates of
 * each shape out of the text (SSN-shaped runs, digit runs, e-mail-shaped runs,
 * hex and base64 runs, "<number> <Street> <Suffix>") and looks them up in sets.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { seedDemo } from '../../../src/emulator/seed/demo.ts';

/** One kind of secret, named for the failure message. */
export type SecretKind =
  | 'ssn'
  | 'ssn-digits'
  | 'ssn-reversed'
  | 'ssn-translated'
  | 'email'
  | 'email-reversed'
  | 'phone'
  | 'phone-digits'
  | 'card'
  | 'card-reversed'
  | 'address'
  | 'salary'
  | 'note'
  | 'hex'
  | 'base64';

export interface DemoSecrets {
  /** Counts per kind, so a test can show the sets are not empty. */
  counts: Record<SecretKind, number>;
  /** One value of each kind, so a test can show the scanner finds it. */
  samples: Record<SecretKind, string>;
  /** Every secret found in `text` (kind and value), de-duplicated. */
  scan(text: string, options?: { bareSalaries?: boolean }): { kind: SecretKind; value: string }[];
}

const reverse = (s: string): string => [...s].reverse().join('');
/** The TRANSLATE the corpus uses: digits to letters. */
export const DIGITS_TO_LETTERS = (s: string): string => s.replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!);
const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex').toUpperCase();
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

const SSN = /\d{3}-\d{2}-\d{4}/g;
const SSN_REVERSED = /\d{4}-\d{2}-\d{3}/g;
const SSN_TRANSLATED = /[a-j]{3}-[a-j]{2}-[a-j]{4}/g;
const DIGITS = /\d+/g;

/** A run of digits that reads as a time since 2020 and before 2035 in s, ms, µs or ns. */
function isEpochTimestamp(run: string): boolean {
  const scale = { 10: 1, 13: 1e3, 16: 1e6, 19: 1e9 }[run.length];
  if (scale === undefined) return false;
  const seconds = Number(run) / scale;
  return seconds >= 1_577_836_800 && seconds < 2_051_222_400;
}
const EMAILISH = /[A-Za-z0-9._%+-]+@[A-Za-z0-9._%+-]+/g;
const PHONE = /\+1-\d{3}-\d{3}-\d{4}|\(\d{3}\) \d{3}-\d{4}/g;
const HEXRUN = /[0-9A-Fa-f]{16,}/g;
const B64RUN = /[A-Za-z0-9+/]{12,}={0,2}/g;
const ADDRESS_START = /(?<![\d.])\d{1,4} [A-Z]/g;
const MONEY = /(?<![\w.])\d{4,7}\.\d{2}(?![\w.])/g;
/** A whole number standing alone (not inside a UUID, hash or decimal). */
const WHOLE = /(?<![\w.-])\d{4,7}(?![\w.])/g;

/** Seed a private in-memory DuckDB with the demo data and collect its PII. */
export async function loadDemoSecrets(): Promise<DemoSecrets> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await seedDemo(conn, { createDatabase: async (name) => void (await conn.run(`ATTACH ':memory:' AS "${name}"`)) });
    const read = async (sql: string): Promise<string[][]> =>
      ((await conn.runAndReadAll(sql)).getRowsJson() as unknown[][]).map((r) => r.map((v) => (v === null ? '' : String(v))));
    const customers = await read(
      'SELECT SSN, EMAIL, PHONE, CARD_NUMBER, STREET_ADDRESS, COALESCE(NOTES, \'\'), CAST(PROFILE AS VARCHAR) FROM "ANALYTICS"."PUBLIC"."CUSTOMERS"',
    );
    const shipping = await read('SELECT DISTINCT SHIPPING_ADDRESS FROM "ANALYTICS"."PUBLIC"."ORDERS"');
    const employees = await read('SELECT SSN, EMAIL, CAST(SALARY AS VARCHAR) FROM "HR"."CORE"."EMPLOYEES"');
    return buildSecrets(customers, shipping.map((r) => r[0]!), employees);
  } finally {
    conn.closeSync();
  }
}

function buildSecrets(customers: string[][], shipping: string[], employees: string[][]): DemoSecrets {
  const sets: Record<SecretKind, Set<string>> = {
    ssn: new Set(), 'ssn-digits': new Set(), 'ssn-reversed': new Set(), 'ssn-translated': new Set(), email: new Set(),
    'email-reversed': new Set(), phone: new Set(), 'phone-digits': new Set(), card: new Set(), 'card-reversed': new Set(),
    address: new Set(), salary: new Set(), note: new Set(), hex: new Set(), base64: new Set(),
  };
  const addSsn = (s: string): void => {
    sets.ssn.add(s);
    const digits = s.replace(/-/g, '');
    sets['ssn-digits'].add(digits);
    sets['ssn-digits'].add(reverse(digits));
    sets['ssn-reversed'].add(reverse(s));
    sets['ssn-translated'].add(DIGITS_TO_LETTERS(s));
    sets.hex.add(hex(s));
    sets.base64.add(b64(s));
  };
  const addEmail = (e: string): void => {
    sets.email.add(e.toLowerCase());
    sets['email-reversed'].add(reverse(e.toLowerCase()));
    sets.hex.add(hex(e));
    sets.base64.add(b64(e));
  };
  const addPhone = (p: string): void => {
    sets.phone.add(p);
    const digits = p.replace(/\D/g, '');
    sets['phone-digits'].add(digits.length === 11 ? digits.slice(1) : digits);
  };
  const addAddress = (a: string): void => {
    const street = a.split(',')[0]!.trim();
    if (street) sets.address.add(street);
  };
  const embedded = (text: string): void => {
    for (const m of text.match(SSN) ?? []) addSsn(m);
    for (const m of text.match(EMAILISH) ?? []) addEmail(m.replace(/[.,;:]+$/, ''));
    for (const m of text.match(PHONE) ?? []) addPhone(m);
  };
  for (const [ssn, email, phone, card, street, notes, profile] of customers) {
    addSsn(ssn!);
    addEmail(email!);
    addPhone(phone!);
    sets.card.add(card!);
    sets['card-reversed'].add(reverse(card!));
    addAddress(street!);
    // A note is a secret when it carries PII; the generic templates are not.
    if (notes && /\d{3}-\d{2}-\d{4}|@|555-01/.test(notes)) sets.note.add(notes);
    embedded(notes!);
    embedded(profile!);
  }
  for (const a of shipping) addAddress(a);
  for (const [ssn, email, salary] of employees) {
    addSsn(ssn!);
    addEmail(email!);
    sets.salary.add(Number(salary).toFixed(2));
  }
  const streetLengths = [...new Set([...sets.address].map((a) => a.length))];
  const noteList = [...sets.note];

  const scan: DemoSecrets['scan'] = (text, options = {}) => {
    const found = new Map<string, { kind: SecretKind; value: string }>();
    const hit = (kind: SecretKind, value: string): void => {
      if (sets[kind].has(value)) found.set(`${kind}\u0000${value}`, { kind, value });
    };
    for (const m of text.match(SSN) ?? []) hit('ssn', m);
    for (const m of text.match(SSN_REVERSED) ?? []) hit('ssn-reversed', m);
    for (const m of text.match(SSN_TRANSLATED) ?? []) hit('ssn-translated', m);
    for (const m of text.match(PHONE) ?? []) hit('phone', m);
    for (const m of text.match(EMAILISH) ?? []) {
      const e = m.toLowerCase().replace(/[.,;:]+$/, '');
      hit('email', e);
      hit('email-reversed', e);
      // Packed values (LISTAGG with a separator the regex keeps) still hold whole addresses.
      for (const part of e.split(/[,;|\s]+/)) {
        hit('email', part);
        hit('email-reversed', part);
      }
    }
    for (const m of text.match(DIGITS) ?? []) {
      // Epoch timestamps (seconds, ms, µs, ns since 2020–2035) fill Redis and the logs; a
      // 9-digit window of one matches some SSN by chance often enough to make a run flaky.
      if (isEpochTimestamp(m)) continue;
      // Windows, so values packed without a separator are found too.
      for (const len of [9, 10, 13, 14, 15, 16, 17, 18, 19]) {
        if (m.length < len) continue;
        if (m.length > 20_000) break;
        for (let i = 0; i + len <= m.length; i++) {
          const w = m.slice(i, i + len);
          if (len === 9) hit('ssn-digits', w);
          else if (len === 10) hit('phone-digits', w);
          else {
            hit('card', w);
            hit('card-reversed', w);
          }
        }
      }
    }
    for (const m of text.match(MONEY) ?? []) hit('salary', m);
    if (options.bareSalaries) for (const m of text.match(WHOLE) ?? []) hit('salary', `${m}.00`);
    for (const m of text.match(HEXRUN) ?? []) {
      const up = m.toUpperCase();
      hit('hex', up);
      for (let i = 0; i + 22 <= up.length && up.length <= 20_000; i += 2) hit('hex', up.slice(i, i + 22));
    }
    for (const m of text.match(B64RUN) ?? []) hit('base64', m);
    for (const m of text.matchAll(ADDRESS_START)) {
      for (const len of streetLengths) hit('address', text.slice(m.index, m.index + len));
    }
    for (const n of noteList) if (text.includes(n)) found.set(`note\u0000${n}`, { kind: 'note', value: n });
    return [...found.values()];
  };
  const counts = Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.size])) as Record<SecretKind, number>;
  const samples = Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, [...v][0]!])) as Record<SecretKind, string>;
  return { counts, samples, scan };
}
