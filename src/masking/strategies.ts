/**
 * Masking strategies: what a sensitive value becomes. Each semantic type of the
 * policy's `sensitive` catalog has a default strategy; a masking config may
 * choose another per type. Pure: node:crypto for the HMAC, nothing else.
 */
import { createHmac } from 'node:crypto';
import type { SENSITIVE_TYPES } from '../policy/schema.ts';

/** Semantic type of sensitive data (the policy's `sensitive[].type`). */
export type SensitiveType = (typeof SENSITIVE_TYPES)[number];

/** Every strategy, in the spelling a masking config uses. */
export const STRATEGIES = ['redact', 'partial', 'hash', 'null', 'generalize', 'detect'] as const;

/**
 * - `redact`: `[REDACTED:SSN]`.
 * - `partial`: keep the harmless part: last 4 digits of a card/SSN/IBAN, the
 *   domain of an email, last 2 digits of a phone, initials of a name, the /16 of
 *   an IPv4; types with no meaningful partial are redacted.
 * - `hash`: `tok_` + 16 hex of HMAC-SHA256(key, normalized value): stable, so
 *   agents can join, group and count distinct without seeing values.
 * - `null`: the value becomes SQL NULL.
 * - `generalize`: dates → year, numbers → a band (`80000-90000`); else redacted.
 * - `detect`: keep the value but mask what the detectors find inside it (free
 *   text, JSON).
 */
export type Strategy = (typeof STRATEGIES)[number];

/** Defaults per type; `pii` fails closed (an unknown kind of personal data is redacted whole). */
export const DEFAULT_STRATEGIES: Readonly<Record<SensitiveType, Strategy>> = Object.freeze({
  ssn: 'partial',
  email: 'partial',
  card: 'partial',
  phone: 'partial',
  name: 'hash',
  address: 'redact',
  dob: 'generalize',
  salary: 'generalize',
  free_text: 'detect',
  ip: 'partial',
  iban: 'partial',
  secret: 'redact',
  restricted: 'redact',
  pii: 'redact',
});

/** How to mask: strategies per type (defaults for the rest) and the HMAC key for `hash`. */
export interface MaskingConfig {
  strategies?: Partial<Record<SensitiveType, Strategy>>;
  /** Key for `hash` tokens; keep it secret and stable (rotating it changes every token). At least 16 bytes. */
  hashKey: Buffer;
  /** Band width for `generalize` of numbers; default 10,000 (salary in 10k bands). */
  bucketSize?: number;
}

/** A compiled masking config: strategy lookup and the value transforms. */
export interface Masker {
  strategyFor(type: SensitiveType): Strategy;
  /**
   * Apply `strategy` to a non-null value of semantic `type`. `label` names the
   * redaction (`[REDACTED:<label>]`, default the type in upper case). `detect`
   * is not handled here (it needs the detectors; see scan.ts) and redacts.
   */
  apply(value: unknown, type: SensitiveType, strategy: Strategy, label?: string): unknown;
  /** {@link Masker.apply} with the type and strategy fixed up front: the per-column function of the row transform. */
  compile(type: SensitiveType, strategy: Strategy, label?: string): (value: unknown) => unknown;
  /** The `hash` token of a value of `type`. */
  token(value: unknown, type: SensitiveType): string;
}

/** `[REDACTED:SSN]` */
export const redacted = (label: string): string => `[REDACTED:${label.toUpperCase()}]`;

const STARS = '*'.repeat(64);
const stars = (n: number): string => (n <= 64 ? STARS.slice(0, n) : '*'.repeat(n));

/** Replace every digit except the last `keep` with `*`, keeping separators (a hot path: char codes, whole runs at once). */
function keepLastDigits(s: string, keep: number): string {
  let p = s.length;
  let seen = 0;
  while (p > 0 && seen < keep) {
    const c = s.charCodeAt(--p);
    if (c >= 48 && c <= 57) seen++;
  }
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < p) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < p) {
        const d = s.charCodeAt(j);
        if (d < 48 || d > 57) break;
        j++;
      }
      out += s.slice(copied, i) + stars(j - i);
      copied = i = j;
    } else i++;
  }
  return out + s.slice(copied);
}

function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

const scalarText = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined;

/** `partial` for types that have one; undefined means "redact instead". */
function partial(value: unknown, type: SensitiveType, bucketSize: number): unknown {
  const s = scalarText(value);
  if (s === undefined) return undefined;
  switch (type) {
    case 'ssn': {
      // Fast path for the common `123-45-6789`.
      if (s.length === 11 && s.charCodeAt(3) === 45 && s.charCodeAt(6) === 45) return `***-**-${s.slice(7)}`;
      const d = s.replace(/\D/g, '');
      if (d.length === 9) return `***-**-${d.slice(5)}`;
      return d.length >= 8 ? keepLastDigits(s, 4) : undefined;
    }
    case 'card':
      return digitCount(s) >= 12 ? keepLastDigits(s, 4) : undefined;
    case 'phone':
      return digitCount(s) >= 7 ? keepLastDigits(s, 2) : undefined;
    case 'email': {
      const at = s.lastIndexOf('@');
      return at > 0 && at < s.length - 1 ? `***@${s.slice(at + 1).trim().toLowerCase()}` : undefined;
    }
    case 'iban': {
      const v = s.trim();
      if (v.replace(/\s/g, '').length < 12) return undefined;
      let seen = 0;
      const chars = v.split('');
      for (let i = chars.length - 1; i >= 2; i--) if (/[A-Za-z0-9]/.test(chars[i]!) && seen++ >= 4) chars[i] = '*';
      return chars.join('');
    }
    case 'name': {
      const words = s.trim().split(/\s+/).filter(Boolean);
      return words.length > 0 ? words.map((w) => `${w[0]!.toUpperCase()}.`).join(' ') : undefined;
    }
    case 'ip': {
      const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(s.trim());
      if (v4) return `${v4[1]}.${v4[2]}.*.*`;
      const groups = s.trim().split(':');
      return groups.length >= 3 ? `${groups.slice(0, 2).join(':')}:*` : undefined;
    }
    case 'dob':
    case 'salary':
      return generalize(value, type, bucketSize);
    default:
      return undefined;
  }
}

const isDigits4 = (s: string): boolean => {
  for (let i = 0; i < 4; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
};
const YEAR_FIRST = /^\s*(\d{4})-\d{1,2}-\d{1,2}/;
const ANY_YEAR = /(?<!\d)(1[89]\d\d|20\d\d)(?!\d)/;
const NUMERIC = /^\s*-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\s*$/;

/** `generalize`: dates → year, numbers → band; undefined means "redact instead". */
function generalize(value: unknown, type: SensitiveType, bucketSize: number): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : String(value.getUTCFullYear());
  const s = scalarText(value);
  if (s === undefined) return undefined;
  if (type !== 'salary') {
    // Fast path for ISO dates (`1985-03-14`, what the warehouse adapter returns).
    if (s.length >= 10 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && isDigits4(s)) return s.slice(0, 4);
    const y = YEAR_FIRST.exec(s) ?? (type === 'dob' ? ANY_YEAR.exec(s) : null);
    if (y) return y[1];
    if (type === 'dob') return undefined;
  }
  if (typeof value === 'number' || NUMERIC.test(s)) {
    const n = Number(s);
    if (!Number.isFinite(n)) return undefined;
    const lo = Math.floor(n / bucketSize) * bucketSize;
    return `${lo}-${lo + bucketSize}`;
  }
  if (type === 'ip') return partial(value, 'ip', bucketSize);
  return undefined;
}

/** What the HMAC sees: one spelling per value, so `Jane@X.com` and `jane@x.com` join. */
function normalizeForToken(value: unknown, type: SensitiveType): string {
  const s = scalarText(value) ?? (value instanceof Date ? value.toISOString() : JSON.stringify(value) ?? String(value));
  switch (type) {
    case 'email':
      return s.trim().toLowerCase();
    case 'ssn':
    case 'card':
      return s.replace(/\D/g, '');
    case 'phone': {
      const d = s.replace(/\D/g, '');
      return d.length === 11 && d[0] === '1' ? d.slice(1) : d;
    }
    case 'iban':
      return s.replace(/\s/g, '').toUpperCase();
    default:
      return s.trim();
  }
}

/** Tokens cached per masker: names and emails repeat across rows, and one HMAC costs ~2 µs. */
const TOKEN_CACHE_SIZE = 4096;

/**
 * Compile a masking config. The masker keeps a small bounded cache from
 * normalized value to token in memory (never persisted); create one per job.
 */
export function createMasker(config: MaskingConfig): Masker {
  const strategies: Record<SensitiveType, Strategy> = { ...DEFAULT_STRATEGIES, ...config.strategies };
  const bucketSize = config.bucketSize ?? 10_000;
  if (!(bucketSize > 0)) throw new RangeError('bucketSize must be positive');
  const key = Buffer.from(config.hashKey);
  if (key.length < 16) throw new RangeError('hashKey must be at least 16 bytes');
  const cache = new Map<string, string>();

  const token = (value: unknown, type: SensitiveType): string => {
    const norm = normalizeForToken(value, type);
    let t = cache.get(norm);
    if (t === undefined) {
      t = `tok_${createHmac('sha256', key).update(norm, 'utf8').digest('hex').slice(0, 16)}`;
      if (cache.size >= TOKEN_CACHE_SIZE) cache.clear();
      cache.set(norm, t);
    }
    return t;
  };

  const apply = (value: unknown, type: SensitiveType, strategy: Strategy, label?: string): unknown => {
    switch (strategy) {
      case 'null':
        return null;
      case 'hash':
        return token(value, type);
      case 'partial':
        return partial(value, type, bucketSize) ?? redacted(label ?? type);
      case 'generalize':
        return generalize(value, type, bucketSize) ?? redacted(label ?? type);
      default:
        return redacted(label ?? type);
    }
  };

  const compile = (type: SensitiveType, strategy: Strategy, label?: string): ((value: unknown) => unknown) => {
    const mark = redacted(label ?? type);
    switch (strategy) {
      case 'null':
        return () => null;
      case 'hash':
        return (v) => token(v, type);
      case 'partial':
        return (v) => partial(v, type, bucketSize) ?? mark;
      case 'generalize':
        return (v) => generalize(v, type, bucketSize) ?? mark;
      default:
        return () => mark;
    }
  };

  return { strategyFor: (type) => strategies[type], apply, compile, token };
}
