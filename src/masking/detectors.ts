/**
 * Value detectors: find sensitive values inside any string (a whole cell or a
 * sentence in a free-text note). Each detector pairs a pattern with a
 * validator (Luhn, mod-97, SSA ranges, a JWT header that decodes) so ids,
 * amounts, timestamps and UUIDs stay visible. Pure: no I/O.
 *
 * Speed matters (every string cell of every result passes through here), so
 * {@link findSensitive} first counts character classes in one pass and only
 * runs the patterns whose minimum shape the text can hold.
 *
 * One file on purpose (just over 400 lines): the detectors are one catalogue —
 * their order is their priority, and the one-pass prefilter must know every
 * pattern's shape — so splitting it would put the priority list and the
 * prefilter in different files from the patterns they rank and skip.
 */

/**
 * Every detector, in priority order: when two findings overlap, the earlier
 * kind wins (a JWT is not also a run of phone numbers; an IBAN's digits are
 * not also a card).
 */
export const DETECTOR_KINDS = [
  'private_key', 'jwt', 'api_token', 'aws_access_key', 'aws_secret_key', 'email', 'iban', 'card', 'ssn', 'phone', 'ipv6', 'ipv4',
] as const;
/** What a detector finds. */
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

/** One sensitive value found in a text: `text.slice(start, end)`. */
export interface Finding {
  kind: DetectorKind;
  start: number;
  end: number;
}

/** Options for {@link findSensitive}. */
export interface DetectOptions {
  /**
   * Also take a bare nine-digit number as an SSN. Off by default: only use it
   * where the context says SSN (a column or JSON key typed ssn), see
   * {@link findSensitive}.
   */
  bareSsn?: boolean;
}

// ---------------------------------------------------------------------------
// Validators (pure, exported for tests and for the strategies)

/** Luhn checksum over the digits of `s` (any non-digit is skipped). */
export function luhnValid(s: string): boolean {
  let sum = 0;
  let n = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    let d = c;
    if (n % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    n++;
  }
  return n > 0 && sum % 10 === 0;
}

/**
 * True when a card number's digits start with a known issuer prefix (IIN) and
 * have that scheme's length: Visa, Mastercard (incl. 2-series), Amex,
 * Discover, Diners, JCB, UnionPay, Maestro. Filters 13–19 digit ids and epoch
 * milliseconds that happen to pass Luhn.
 */
export function knownCardPrefix(digits: string): boolean {
  const len = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  switch (digits.charCodeAt(0) - 48) {
    case 4:
      return len === 13 || len === 16 || len === 19;
    case 5:
      if (p2 >= 51 && p2 <= 55) return len === 16;
      return (p2 === 50 || (p2 >= 56 && p2 <= 58)) && len >= 13; // Maestro
    case 2:
      return p4 >= 2221 && p4 <= 2720 && len === 16;
    case 3:
      if (p2 === 34 || p2 === 37) return len === 15;
      if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return len >= 14;
      return p4 >= 3528 && p4 <= 3589 && len >= 16;
    case 6:
      if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || p2 === 62) return len >= 16;
      return (p2 === 63 || p2 === 67) && len >= 13; // Maestro
    default:
      return false;
  }
}

/** A card number: 13–19 digits (spaces/dashes ignored), known IIN, Luhn. */
export function isCardNumber(s: string): boolean {
  const digits = s.replace(/[ -]/g, '');
  return /^\d{13,19}$/.test(digits) && knownCardPrefix(digits) && luhnValid(digits);
}

/**
 * SSA rules for an issued SSN: area not 000, 666 or 900–999; group not 00;
 * serial not 0000. Takes `AAA-GG-SSSS`, `AAA GG SSSS` or nine bare digits.
 */
export function isValidSsn(s: string): boolean {
  const m = /^(\d{3})([- ]?)(\d{2})\2(\d{4})$/.exec(s);
  if (!m) return false;
  const area = Number(m[1]);
  return area !== 0 && area !== 666 && area < 900 && m[3] !== '00' && m[4] !== '0000';
}

/** IBAN lengths by country (ISO 13616 registry). */
const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map(
  ('AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 FI18 FO18 FR27 GB22 ' +
    'GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 ' +
    'MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 ' +
    'VG24 XK20')
    .split(' ')
    .map((e) => [e.slice(0, 2), Number(e.slice(2))] as const),
);

/** An IBAN: known country, that country's length, mod-97 remainder 1. Spaces ignored. */
export function isValidIban(s: string): boolean {
  const v = s.replace(/ /g, '');
  if (IBAN_LENGTHS.get(v.slice(0, 2)) !== v.length || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(v)) return false;
  const moved = v.slice(4) + v.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    if (c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else rem = (rem * 100 + (c - 55)) % 97; // A=10 … Z=35
  }
  return rem === 1;
}

/** IPv6 text form: eight groups, or fewer with one `::`; at least three non-empty groups (so `a::b` in code is not one). */
export function isIpv6(s: string): boolean {
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  if (groups.some((g) => g.length === 0 || g.length > 4 || !/^[0-9A-Fa-f]+$/.test(g))) return false;
  if (halves.length === 1 ? groups.length !== 8 : groups.length > 7) return false;
  return groups.length >= 3;
}

/** A JWT: three base64url parts whose header decodes to a JSON object with a string `alg`. */
export function isJwt(s: string): boolean {
  const dot = s.indexOf('.');
  if (dot < 0) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(s.slice(0, dot), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

const FILE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'bmp', 'ico', 'pdf', 'css', 'js', 'ts', 'json', 'html', 'txt', 'csv']);

/** Domain part of an email: ≥ 2 labels of [A-Za-z0-9-] not edged by `-`, alphabetic TLD ≥ 2 that is not a file extension (`icon@2x.png`). */
function validEmailDomain(s: string, start: number, end: number): boolean {
  const labels = s.slice(start, end).split('.');
  if (labels.length < 2) return false;
  for (const l of labels) if (l.length === 0 || l.length > 63 || l.startsWith('-') || l.endsWith('-')) return false;
  const tld = labels[labels.length - 1]!;
  return /^[A-Za-z]{2,24}$/.test(tld) && !FILE_EXTENSIONS.has(tld.toLowerCase());
}

// ---------------------------------------------------------------------------
// Patterns. Global regexes are reused: every use resets lastIndex first, and
// all use is synchronous.

const RE_PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g;
const RE_JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const RE_API_TOKEN =
  /(?<![A-Za-z0-9_-])(?:xox[bpars]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20,}|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g;
const RE_AWS_ACCESS_KEY = /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])/g;
const RE_AWS_SECRET = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const RE_AWS_CONTEXT = /aws|secret/i;
const RE_IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;
/** A run of digits with single space/dash separators, not part of a word or a decimal. */
const RE_DIGIT_RUN = /(?<![\w.])\d(?:[ -]?\d){12,}(?![\w]|[.,]\d)/g;
const RE_SSN = /(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w]|[- ]\d)/g;
const RE_SSN_BARE = /(?<![\w-])\d{9}(?![\w]|[-.]\d)/g;
const RE_SSN_KEYWORD = /\b(?:ssn|social security(?: number| no\.?| #)?|soc\.? ?sec\.?(?: no\.?)?)\b[\s:#=-]*$/i;
const RE_NANP =
  /(?<![\w+.)-])(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?[2-9]\d{2}[ .-]|[2-9]\d{2}([ .-])[2-9]\d{2}\1)\d{4}(?![\w]|[.-]\d)/g;
const RE_E164 = /(?<![\w+])\+[1-9][\d ().-]{6,20}\d(?![\w]|[.-]\d)/g;
const RE_IPV6 = /(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8}(?![\w:])/g;
const RE_IPV4 = /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g;

/** Character-class counts from one pass over the text: cheap pre-checks for every pattern. */
interface Shape {
  digits: number;
  at: number;
  plus: number;
  colon: number;
  dot: number;
  upper: number;
  /** Longest run of [A-Za-z0-9_-]: tokens and keys need a long one. */
  wordRun: number;
  /** Longest run of [A-Za-z0-9/+]: AWS secret keys are 40. */
  b64Run: number;
}

function shapeOf(s: string): Shape {
  let digits = 0, at = 0, plus = 0, colon = 0, dot = 0, upper = 0, wordRun = 0, b64Run = 0, w = 0, b = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      w++;
      b++;
    } else if (c >= 97 && c <= 122) {
      w++;
      b++;
    } else if (c >= 65 && c <= 90) {
      upper++;
      w++;
      b++;
    } else {
      if (w > wordRun) wordRun = w;
      if (c === 95 || c === 45) {
        w++;
        if (b > b64Run) b64Run = b;
        b = 0;
        continue;
      }
      w = 0;
      if (c === 47 || c === 43) {
        b++;
        if (c === 43) plus++;
        continue;
      }
      if (b > b64Run) b64Run = b;
      b = 0;
      if (c === 64) at++;
      else if (c === 58) colon++;
      else if (c === 46) dot++;
    }
  }
  if (w > wordRun) wordRun = w;
  if (b > b64Run) b64Run = b;
  return { digits, at, plus, colon, dot, upper, wordRun, b64Run };
}

/** Collects findings; a new one is kept only if it overlaps none kept so far (detectors run in priority order). */
class Findings {
  readonly list: Finding[] = [];
  add(kind: DetectorKind, start: number, end: number): void {
    for (const f of this.list) if (start < f.end && f.start < end) return;
    this.list.push({ kind, start, end });
  }
}

function eachMatch(re: RegExp, s: string, fn: (m: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    fn(m);
    if (m[0].length === 0) re.lastIndex++;
  }
}

const EMAIL_LOCAL = /[A-Za-z0-9._%+-]/;
const EMAIL_DOMAIN = /[A-Za-z0-9.-]/;

/** Emails by expanding around each `@` (linear; no regex backtracking over long runs). */
function findEmails(s: string, out: Findings): void {
  let at = s.indexOf('@');
  while (at >= 0) {
    let i = at;
    // An apostrophe belongs to the address only inside a word (o'brien@…), not as a quote ('jane@…' in an error message).
    while (i > 0 && at - i < 64 && (EMAIL_LOCAL.test(s[i - 1]!) || (s[i - 1] === "'" && i > 1 && /[A-Za-z0-9]/.test(s[i - 2]!)))) i--;
    while (i < at && s[i] === '.') i++;
    let j = at + 1;
    while (j < s.length && j - at <= 253 && EMAIL_DOMAIN.test(s[j]!)) j++;
    while (j > at + 1 && (s[j - 1] === '.' || s[j - 1] === '-')) j--;
    const local = s.slice(i, at);
    if (local.length > 0 && !local.endsWith('.') && !local.includes('..') && validEmailDomain(s, at + 1, j)) out.add('email', i, j);
    at = s.indexOf('@', Math.max(j, at + 1));
  }
}

/** Cards: a maximal digit run, or (for runs longer than 19 digits) consecutive separator groups of it. */
function findCards(s: string, out: Findings): void {
  eachMatch(RE_DIGIT_RUN, s, (m) => {
    const run = m[0];
    const digits = run.replace(/[ -]/g, '');
    if (digits.length <= 19) {
      if (knownCardPrefix(digits) && luhnValid(digits)) out.add('card', m.index, m.index + run.length);
      return;
    }
    // "4111 1111 1111 1111 2024": try windows of whole groups.
    const groups: Array<{ start: number; end: number; n: number }> = [];
    const re = /\d+/g;
    for (let g = re.exec(run); g; g = re.exec(run)) groups.push({ start: g.index, end: g.index + g[0].length, n: g[0].length });
    for (let a = 0; a < groups.length; a++) {
      let n = 0;
      for (let b = a; b < groups.length; b++) {
        n += groups[b]!.n;
        if (n > 19) break;
        if (n < 13) continue;
        const text = run.slice(groups[a]!.start, groups[b]!.end);
        if (isCardNumber(text)) {
          out.add('card', m.index + groups[a]!.start, m.index + groups[b]!.end);
          a = b;
          break;
        }
      }
    }
  });
}

/** Separators of a real phone number: no doubled separators, at most one balanced `( )` group. */
function tidyPhoneSeparators(t: string): boolean {
  if (/[ .-]{2}/.test(t.replace(/\) /g, ')'))) return false;
  const open = t.indexOf('(');
  const close = t.indexOf(')');
  if (open < 0 && close < 0) return true;
  return open >= 0 && close > open + 1 && t.indexOf('(', open + 1) < 0 && t.indexOf(')', close + 1) < 0;
}

function findPhones(s: string, shape: Shape, out: Findings): void {
  if (shape.digits >= 10) {
    eachMatch(RE_NANP, s, (m) => {
      const d = m[0].replace(/\D/g, '');
      const ten = d.length === 11 ? d.slice(1) : d;
      // N11 area codes (211…911) are service codes, not subscriber numbers.
      if (ten[1] === '1' && ten[2] === '1') return;
      out.add('phone', m.index, m.index + m[0].length);
    });
  }
  if (shape.plus > 0) {
    eachMatch(RE_E164, s, (m) => {
      const t = m[0];
      if (!tidyPhoneSeparators(t)) return;
      const d = t.replace(/\D/g, '');
      if (d.length < 8 || d.length > 15) return;
      if (d[0] === '1' && (d.length !== 11 || d[1]! < '2' || d[4]! < '2')) return;
      out.add('phone', m.index, m.index + t.length);
    });
  }
}

/**
 * Find sensitive values in `s`: non-overlapping findings sorted by start.
 *
 * SSNs are taken with separators (`123-45-6789`, `123 45 6789`). A bare nine-digit
 * number is an SSN only right after a keyword (`SSN: 123456789`) or when
 * `bareSsn` is set: about 89% of all nine-digit numbers pass the SSA ranges, so
 * the validator cannot tell an SSN from a ZIP+4, an ABA routing number, an
 * order id or an amount in cents, and masking all of them would blind agents
 * to ordinary ids. Columns typed `ssn` are masked by rule whatever their shape.
 */
export function findSensitive(s: string, options?: DetectOptions): Finding[] {
  if (s.length < 6) return [];
  const shape = shapeOf(s);
  const out = new Findings();
  if (s.length >= 40 && s.includes('-----BEGIN')) eachMatch(RE_PRIVATE_KEY, s, (m) => out.add('private_key', m.index, m.index + m[0].length));
  if (shape.dot >= 2 && shape.wordRun >= 7 && s.includes('eyJ')) {
    eachMatch(RE_JWT, s, (m) => {
      if (isJwt(m[0])) out.add('jwt', m.index, m.index + m[0].length);
    });
  }
  if (shape.wordRun >= 20) {
    eachMatch(RE_API_TOKEN, s, (m) => {
      const t = m[0];
      if (/\d/.test(t) && /[A-Za-z]/.test(t.slice(4))) out.add('api_token', m.index, m.index + t.length);
    });
  }
  let awsKey = false;
  if (shape.wordRun >= 20 && shape.upper >= 16) {
    eachMatch(RE_AWS_ACCESS_KEY, s, (m) => {
      awsKey = true;
      out.add('aws_access_key', m.index, m.index + m[0].length);
    });
  }
  if (shape.b64Run >= 40 && (awsKey || RE_AWS_CONTEXT.test(s))) {
    eachMatch(RE_AWS_SECRET, s, (m) => {
      const t = m[0];
      if (/[a-z]/.test(t) && /[A-Z]/.test(t) && /[0-9/+]/.test(t)) out.add('aws_secret_key', m.index, m.index + t.length);
    });
  }
  if (shape.at > 0) findEmails(s, out);
  if (shape.digits >= 8 && shape.upper >= 2 && s.length >= 15) {
    eachMatch(RE_IBAN, s, (m) => {
      if (isValidIban(m[0])) out.add('iban', m.index, m.index + m[0].length);
    });
  }
  if (shape.digits >= 13) findCards(s, out);
  if (shape.digits >= 9) {
    eachMatch(RE_SSN, s, (m) => {
      if (isValidSsn(m[0])) out.add('ssn', m.index, m.index + m[0].length);
    });
    if (options?.bareSsn || /ss|soc/i.test(s)) {
      eachMatch(RE_SSN_BARE, s, (m) => {
        if (!isValidSsn(m[0])) return;
        if (options?.bareSsn || RE_SSN_KEYWORD.test(s.slice(Math.max(0, m.index - 32), m.index))) out.add('ssn', m.index, m.index + 9);
      });
    }
  }
  if (shape.digits >= 8) findPhones(s, shape, out);
  if (shape.colon >= 7 || (shape.colon >= 2 && s.includes('::'))) {
    eachMatch(RE_IPV6, s, (m) => {
      if (isIpv6(m[0])) out.add('ipv6', m.index, m.index + m[0].length);
    });
  }
  if (shape.dot >= 3 && shape.digits >= 4) eachMatch(RE_IPV4, s, (m) => out.add('ipv4', m.index, m.index + m[0].length));
  const list = out.list;
  if (list.length > 1) list.sort((a, b) => a.start - b.start);
  return list;
}

/** True when an integer held as a number could be a card number (NUMBER columns hold cards as numbers). */
export function numberMayBeCard(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1e12 && isCardNumber(String(n));
}
