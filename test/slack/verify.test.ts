/** Slack request signatures (pure, with an injected clock): the exact 5-minute boundary, both ways. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_SKEW_SECONDS, verifySlackRequest } from '../../src/slack/verify.ts';

const secret = 'test-signing-secret';
const rawBody = 'payload=%7B%7D';
const sign = (ts: number, body = rawBody, key = secret) => `v0=${createHmac('sha256', key).update(`v0:${ts}:${body}`).digest('hex')}`;
const NOW = 1_764_000_000;
const request = (ts: number, over: Partial<Parameters<typeof verifySlackRequest>[0]> = {}) => ({
  secret,
  timestamp: String(ts),
  signature: sign(ts),
  rawBody,
  nowMs: NOW * 1000,
  ...over,
});
const codeOf = (req: Parameters<typeof verifySlackRequest>[0]) => {
  try {
    verifySlackRequest(req);
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  }
};

describe('verifySlackRequest', () => {
  it('accepts up to exactly five minutes either way, and refuses one second more', () => {
    expect(MAX_SKEW_SECONDS).toBe(300);
    expect(codeOf(request(NOW))).toBe('ok');
    expect(codeOf(request(NOW - 300))).toBe('ok');
    expect(codeOf(request(NOW + 300))).toBe('ok');
    expect(codeOf(request(NOW - 301))).toBe('AUTH_INVALID');
    expect(codeOf(request(NOW + 301))).toBe('AUTH_INVALID');
  });

  it('refuses a wrong secret, an edited body, a missing header and a timestamp that is not a number', () => {
    expect(codeOf(request(NOW, { signature: sign(NOW, rawBody, 'other') }))).toBe('AUTH_INVALID');
    expect(codeOf(request(NOW, { rawBody: 'payload=%7B%22x%22%7D' }))).toBe('AUTH_INVALID');
    expect(codeOf(request(NOW, { signature: 'v0=short' }))).toBe('AUTH_INVALID');
    expect(codeOf(request(NOW, { signature: undefined }))).toBe('AUTH_MISSING');
    expect(codeOf(request(NOW, { timestamp: undefined }))).toBe('AUTH_MISSING');
    expect(codeOf(request(NOW, { timestamp: '1e9' }))).toBe('AUTH_INVALID');
  });
});
