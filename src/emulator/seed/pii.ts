/**
 * Seeded generators and validators for fake PII. Pure functions: the demo
 * seed uses them, and the tests and the masking detectors' tests can check
 * values with the same rules.
 */

/** A seeded PRNG (mulberry32): same seed, same sequence, on every machine. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
}

/** Create a seeded PRNG. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => list[Math.floor(next() * list.length)]!,
    chance: (p) => next() < p,
  };
}

/** True when the digits pass the Luhn checksum (spaces and dashes are ignored). */
export function luhnValid(number: string): boolean {
  const digits = number.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Luhn check digit for a partial number (the digits before the check digit). */
export function luhnCheckDigit(partial: string): number {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    // Counting from the right of the full number, the partial's last digit is doubled.
    let d = partial.charCodeAt(partial.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * True for a well-formed US SSN `AAA-GG-SSSS`: area not 000, 666 or 900–999,
 * group not 00, serial not 0000 (SSA's rules for issued numbers).
 */
export function isValidSsn(ssn: string): boolean {
  const m = /^(\d{3})-(\d{2})-(\d{4})$/.exec(ssn);
  if (!m) return false;
  const area = Number(m[1]);
  return area !== 0 && area !== 666 && area < 900 && m[2] !== '00' && m[3] !== '0000';
}

/** A valid-format fake SSN. */
export function fakeSsn(rng: Rng): string {
  let area = rng.int(1, 899);
  if (area === 666) area = 665;
  const group = rng.int(1, 99);
  const serial = rng.int(1, 9999);
  return `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`;
}

/** Card brands with realistic IIN prefixes and lengths. */
const CARD_BRANDS: readonly { prefixes: readonly string[]; length: number; weight: number }[] = [
  { prefixes: ['4'], length: 16, weight: 45 },
  { prefixes: ['51', '52', '53', '54', '55', '2221', '2720'], length: 16, weight: 30 },
  { prefixes: ['34', '37'], length: 15, weight: 12 },
  { prefixes: ['6011', '65'], length: 16, weight: 8 },
  { prefixes: ['4'], length: 13, weight: 2 },
  { prefixes: ['62'], length: 19, weight: 3 },
];

/** A Luhn-valid fake card number (digits only, 13–19 long). */
export function fakeCardNumber(rng: Rng): string {
  const total = CARD_BRANDS.reduce((s, b) => s + b.weight, 0);
  let r = rng.int(1, total);
  let brand = CARD_BRANDS[0]!;
  for (const b of CARD_BRANDS) {
    r -= b.weight;
    if (r <= 0) {
      brand = b;
      break;
    }
  }
  let n = rng.pick(brand.prefixes);
  while (n.length < brand.length - 1) n += String(rng.int(0, 9));
  return n + luhnCheckDigit(n);
}

const AREA_CODES = ['212', '310', '312', '415', '503', '512', '617', '206', '303', '404', '305', '702', '713', '215', '602'];

/** A NANP phone number in the fictional 555-01xx range, in one of two common formats. */
export function fakePhone(rng: Rng): string {
  const area = rng.pick(AREA_CODES);
  const line = `01${String(rng.int(0, 99)).padStart(2, '0')}`;
  return rng.chance(0.5) ? `+1-${area}-555-${line}` : `(${area}) 555-${line}`;
}
