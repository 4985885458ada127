/**
 * What goes into an event from free text an agent sent: the SQL, the prompt,
 * the purpose, labels, and the decision's sentences (which quote parser
 * messages). Literals can carry personal data (`WHERE ssn = '…'`), so every
 * piece of text runs through the masking detectors first (pure, no key: values
 * become `[REDACTED:SSN]` and the like). The raw SQL is kept only as its
 * sha256, so whoever holds the original can prove it is the one recorded.
 */
import { createHash } from 'node:crypto';
import { maskText } from '../masking/scan.ts';
import type { Decision } from '../policy/decision.ts';

/** Detector-masked text: PII and secrets inside it replaced, the rest as sent. */
export function redactText(text: string): string {
  return maskText(text);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The decision with its reasons and analysis gaps run through the detectors; a copy, never the original. */
export function redactDecision(decision: Decision): Decision {
  return {
    ...decision,
    reasons: decision.reasons.map((r) => ({ ...r, message: redactText(r.message) })),
    statements: decision.statements.map((s) => (s.gaps ? { ...s, gaps: s.gaps.map(redactText) } : s)),
  };
}

/** Label values (not keys) through the detectors. */
export function redactLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, redactText(v)]));
}
