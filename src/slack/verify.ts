/**
 * Slack request signatures (DESIGN §4): `v0=HMAC_SHA256(secret, "v0:{ts}:{raw body}")`.
 * Requests more than five minutes old **or in the future** are refused; Bolt's
 * own check only looks at the past. The clock is a parameter.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AirlockError } from '../errors.ts';

/** How far a request timestamp may be from our clock, either way. */
export const MAX_SKEW_SECONDS = 5 * 60;

export interface SignedRequest {
  secret: string;
  /** `x-slack-request-timestamp` */
  timestamp: string | undefined;
  /** `x-slack-signature` */
  signature: string | undefined;
  rawBody: string;
  nowMs: number;
}

/** Throws AUTH_INVALID (401) with a sentence saying what is wrong; returns when the request is Slack's. */
export function verifySlackRequest(req: SignedRequest): void {
  if (!req.timestamp || !req.signature) {
    throw new AirlockError('AUTH_MISSING', 'The request has no Slack signature (x-slack-signature and x-slack-request-timestamp).');
  }
  if (!/^\d{1,12}$/.test(req.timestamp)) throw new AirlockError('AUTH_INVALID', 'The Slack request timestamp is not a number.');
  const skew = Math.abs(req.nowMs / 1000 - Number(req.timestamp));
  if (skew > MAX_SKEW_SECONDS) {
    throw new AirlockError('AUTH_INVALID', 'The Slack request timestamp is more than 5 minutes away from now (a replay, or a clock problem).');
  }
  const expected = `v0=${createHmac('sha256', req.secret).update(`v0:${req.timestamp}:${req.rawBody}`).digest('hex')}`;
  const a = Buffer.from(expected);
  const b = Buffer.from(req.signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new AirlockError('AUTH_INVALID', 'The Slack signature does not match the request.');
  }
}
