/**
 * The network checks behind /readyz keep their outcome between probes (a
 * success for 30 s, a failure for 5 s) and share one attempt among concurrent
 * probes, so an orchestrator probing every few seconds neither loads Snowflake
 * nor the IdP. The clock is a parameter; the checks here are plain functions
 * (what they reach is covered with real parts in test/e2e/readiness.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { cached, runReadiness } from '../../src/app/readiness.ts';

function counting(outcomes: Array<true | string>) {
  let calls = 0;
  return {
    check: async () => outcomes[Math.min(calls++, outcomes.length - 1)]!,
    calls: () => calls,
  };
}

describe('cached readiness checks', () => {
  it('reuses a success for 30 s and a failure for 5 s', async () => {
    let now = 0;
    const probe = counting(['Snowflake refused the login.', true, 'gone again']);
    const check = cached(probe.check, () => now);
    expect(await check()).toBe('Snowflake refused the login.');
    now = 4_999;
    expect(await check()).toBe('Snowflake refused the login.');
    expect(probe.calls()).toBe(1);
    now = 5_000;
    expect(await check()).toBe(true);
    expect(probe.calls()).toBe(2);
    now = 34_999;
    expect(await check()).toBe(true);
    expect(probe.calls()).toBe(2);
    now = 35_000;
    expect(await check()).toBe('gone again');
    expect(probe.calls()).toBe(3);
  });

  it('concurrent probes share one attempt; a check that throws counts as failed, without echoing an unknown error on the open route', async () => {
    let release!: () => void;
    let calls = 0;
    const check = cached(async () => {
      calls++;
      await new Promise<void>((r) => (release = r));
      throw new Error('socket hang up');
    });
    const both = Promise.all([check(), check(), check()]);
    release();
    expect(await both).toEqual(Array(3).fill('the check failed: An internal error occurred; the incident was logged.'));
    expect(calls).toBe(1);
  });
});

describe('runReadiness', () => {
  it('names every check, and gives a sentence only for the failing ones', async () => {
    expect(await runReadiness({ redis: async () => true, warehouse: async () => 'The worker cannot run statements.' })).toEqual({
      checks: { redis: true, warehouse: false },
      problems: { warehouse: 'The worker cannot run statements.' },
    });
    expect(await runReadiness({ redis: async () => true })).toEqual({ checks: { redis: true } });
  });
});
