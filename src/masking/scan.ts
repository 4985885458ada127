/**
 * Detector-driven masking of one value: free text (mask each finding in
 * place), JSON (VARIANT/OBJECT/ARRAY, as parsed values or JSON text: mask by
 * key name and by value), and numbers that may be card numbers. Pure.
 */
import { findSensitive, numberMayBeCard, type DetectOptions, type DetectorKind } from './detectors.ts';
import { createMasker, DEFAULT_STRATEGIES, redacted, type Masker, type SensitiveType, type Strategy } from './strategies.ts';

/** The semantic type whose strategy applies to a detector's findings. */
export const DETECTOR_TYPES: Readonly<Record<DetectorKind, SensitiveType>> = Object.freeze({
  private_key: 'secret',
  jwt: 'secret',
  api_token: 'secret',
  aws_access_key: 'secret',
  aws_secret_key: 'secret',
  email: 'email',
  iban: 'iban',
  card: 'card',
  ssn: 'ssn',
  phone: 'phone',
  ipv6: 'ip',
  ipv4: 'ip',
});

const LABELS: Readonly<Record<DetectorKind, string>> = Object.freeze({
  private_key: 'PRIVATE_KEY',
  jwt: 'JWT',
  api_token: 'API_TOKEN',
  aws_access_key: 'AWS_ACCESS_KEY',
  aws_secret_key: 'AWS_SECRET_KEY',
  email: 'EMAIL',
  iban: 'IBAN',
  card: 'CARD',
  ssn: 'SSN',
  phone: 'PHONE',
  ipv6: 'IP',
  ipv4: 'IP',
});

/**
 * Told once per finding or masked key: `detail` is the detector kind
 * (`email`, `ipv4`) or `key:<type>` for a JSON key name.
 */
export type HitSink = (detail: string, type: SensitiveType, strategy: Strategy) => void;

const noSink: HitSink = () => {};

/** A strategy that can mask a span inside text (`detect` and `generalize` would mean nothing there). */
function spanStrategy(s: Strategy): Strategy {
  return s === 'detect' || s === 'generalize' ? 'redact' : s;
}

/**
 * Mask every detector finding in `s` with its type's strategy. Returns `s`
 * itself when nothing was found, and `null` only when the strategy is `null`
 * and the finding is the whole (trimmed) string; a `null` finding inside longer
 * text is redacted.
 */
export function maskString(s: string, masker: Masker, sink: HitSink = noSink, options?: DetectOptions): string | null {
  const findings = findSensitive(s, options);
  if (findings.length === 0) return s;
  let out = '';
  let last = 0;
  for (const f of findings) {
    const type = DETECTOR_TYPES[f.kind];
    let strategy = spanStrategy(masker.strategyFor(type));
    if (strategy === 'null') {
      if (findings.length === 1 && s.slice(0, f.start).trim() === '' && s.slice(f.end).trim() === '') {
        sink(f.kind, type, 'null');
        return null;
      }
      strategy = 'redact';
    }
    sink(f.kind, type, strategy);
    out += s.slice(last, f.start) + String(masker.apply(s.slice(f.start, f.end), type, strategy, LABELS[f.kind]));
    last = f.end;
  }
  return out + s.slice(last);
}

const REDACT_ALL: Masker = createMasker({
  // Never used to hash: every strategy is redact.
  hashKey: Buffer.alloc(32),
  strategies: Object.fromEntries(Object.keys(DEFAULT_STRATEGIES).map((t) => [t, 'redact'])),
});

/**
 * Run every detector over a text that leaves Airlock without a column (a
 * warehouse error message that echoes a value, a log line). Redacts by default
 * (`[REDACTED:SSN]`); pass a masker to use the configured strategies.
 */
export function maskText(text: string, masker: Masker = REDACT_ALL): string {
  return maskString(text, masker) ?? redacted('value');
}

// ---------------------------------------------------------------------------
// Key names

/** Substrings of the joined lower-case key, checked in order (longer, more specific first). */
const KEY_COMPOUNDS: ReadonlyArray<readonly [string, SensitiveType | null]> = [
  ['ipaddress', 'ip'], ['emailaddress', 'email'], ['macaddress', null], ['socialsecurity', 'ssn'], ['taxid', 'ssn'],
  ['cardnumber', 'card'], ['creditcard', 'card'], ['ccnumber', 'card'], ['cardno', 'card'], ['dateofbirth', 'dob'], ['birthdate', 'dob'],
  ['apikey', 'secret'], ['accesskey', 'secret'], ['secretkey', 'secret'], ['privatekey', 'secret'], ['clientsecret', 'secret'],
  ['authorization', 'secret'], ['firstname', 'name'], ['lastname', 'name'], ['fullname', 'name'], ['givenname', 'name'],
  ['middlename', 'name'], ['familyname', 'name'], ['maidenname', 'name'], ['accountnumber', 'restricted'], ['bankaccount', 'restricted'],
  ['routingnumber', 'restricted'], ['passport', 'restricted'], ['driverslicense', 'restricted'], ['nationalid', 'restricted'],
  ['phonenumber', 'phone'], ['addressline', 'address'], ['streetaddress', 'address'],
];

/** Whole keys that are too short to look for as substrings. */
const KEY_EXACT: ReadonlyMap<string, SensitiveType> = new Map([['pan', 'card'], ['card', 'card'], ['tel', 'phone'], ['cc', 'card']]);

/** Single words of a key (`customer_ssn`, `accessToken`). Plural forms (`tokens_used`) are deliberately not words here. */
const KEY_WORDS: ReadonlyMap<string, SensitiveType> = new Map([
  ['ssn', 'ssn'], ['email', 'email'], ['password', 'secret'], ['passwd', 'secret'], ['pwd', 'secret'], ['passphrase', 'secret'],
  ['secret', 'secret'], ['token', 'secret'], ['credential', 'secret'], ['credentials', 'secret'], ['cvv', 'secret'], ['cvv2', 'secret'],
  ['cvc', 'secret'], ['pin', 'secret'], ['phone', 'phone'], ['mobile', 'phone'], ['telephone', 'phone'], ['fax', 'phone'], ['dob', 'dob'],
  ['birthday', 'dob'], ['iban', 'iban'], ['salary', 'salary'], ['income', 'salary'], ['wage', 'salary'], ['wages', 'salary'],
  ['compensation', 'salary'], ['address', 'address'], ['street', 'address'], ['surname', 'name'], ['ip', 'ip'],
]);

const keyMemo = new Map<string, SensitiveType | null>();

/**
 * The semantic type a JSON key name implies (`ssn`, `customerEmail`,
 * `card_number`, `password`, `date_of_birth`…), or undefined.
 */
export function keyType(key: string): SensitiveType | undefined {
  let t = keyMemo.get(key);
  if (t !== undefined) return t ?? undefined;
  t = classifyKey(key);
  if (keyMemo.size >= 10_000) keyMemo.clear();
  keyMemo.set(key, t);
  return t ?? undefined;
}

function classifyKey(key: string): SensitiveType | null {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const joined = words.join('');
  const exact = KEY_EXACT.get(joined);
  if (exact) return exact;
  for (const [sub, type] of KEY_COMPOUNDS) if (joined.includes(sub)) return type;
  for (const w of words) {
    const t = KEY_WORDS.get(w);
    if (t) return t;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Values

const MAX_DEPTH = 64;

const looksJson = (s: string): boolean => {
  const a = s.charCodeAt(0);
  const z = s.charCodeAt(s.length - 1);
  return (a === 123 && z === 125) || (a === 91 && z === 93);
};

/** Mask a value found under a sensitive key: scalars get the type's strategy, containers pass the type down. */
function maskKeyed(value: unknown, type: SensitiveType, masker: Masker, sink: HitSink, depth: number): unknown {
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (typeof value === 'object') return walk(value, masker, sink, depth, type);
  const strategy = masker.strategyFor(type);
  if (strategy === 'detect') return scanValue(value, masker, sink, depth);
  sink(`key:${type}`, type, strategy);
  return masker.apply(value, type, strategy);
}

function walk(value: object, masker: Masker, sink: HitSink, depth: number, inherited?: SensitiveType): unknown {
  if (depth >= MAX_DEPTH) {
    sink('depth', 'restricted', 'redact');
    return redacted('too_deep');
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const m = inherited ? maskKeyed(v, inherited, masker, sink, depth + 1) : scanValue(v, masker, sink, depth + 1);
      if (m !== v) {
        out ??= value.slice();
        out[i] = m;
      }
    }
    return out ?? value;
  }
  if (value instanceof Date) return inherited ? maskKeyed(value.toISOString(), inherited, masker, sink, depth) : value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const type = inherited ?? keyType(k);
    const m = type ? maskKeyed(v, type, masker, sink, depth + 1) : scanValue(v, masker, sink, depth + 1);
    if (m !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      out[k] = m;
    }
  }
  return out ?? value;
}

/**
 * Detector masking of any cell value: strings (free text, or JSON text walked
 * and re-serialized), parsed VARIANT values (objects and arrays walked), and
 * integers that could be card numbers. Returns the value itself when nothing
 * was masked, so callers can copy rows on write.
 */
export function scanValue(value: unknown, masker: Masker, sink: HitSink = noSink, depth = 0, options?: DetectOptions): unknown {
  switch (typeof value) {
    case 'string': {
      if (value.length < 6) return value;
      if (looksJson(value)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(value);
        } catch {
          return maskString(value, masker, sink, options);
        }
        const masked = walk(parsed as object, masker, sink, depth);
        return masked === parsed ? value : JSON.stringify(masked);
      }
      return maskString(value, masker, sink, options);
    }
    case 'number': {
      if (!numberMayBeCard(value)) return value;
      const strategy = spanStrategy(masker.strategyFor('card'));
      sink('card', 'card', strategy);
      return masker.apply(value, 'card', strategy, 'CARD');
    }
    case 'bigint': {
      const s = String(value);
      const m = scanValue(s, masker, sink, depth, options);
      return m === s ? value : m;
    }
    case 'object':
      return value === null ? value : walk(value, masker, sink, depth);
    default:
      return value;
  }
}
