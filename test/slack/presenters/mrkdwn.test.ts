import { describe, expect, it } from 'vitest';
import { fitText, humanDuration, slackDate } from '../../../src/slack/presenters/mrkdwn.ts';

describe('helpers', () => {
  it.each([
    [20, '20 s'],
    [60, '1 min'],
    [3600, '1 h'],
    [5400, '1 h 30 min'],
    [86400 * 3, '3 days'],
  ])('humanDuration(%i) = %s', (s, want) => expect(humanDuration(s)).toBe(want));

  it('slackDate formats for the reader with a UTC fallback', () => {
    expect(slackDate('2025-03-04T10:30:00Z')).toBe('<!date^1741084200^{date_short_pretty} {time}|2025-03-04 10:30 UTC>');
  });

  it('fitText never exceeds the limit, counts what it cut, and escapes', () => {
    expect(fitText('a<b', 10)).toBe('a&lt;b');
    const out = fitText('<'.repeat(100), 60);
    expect(out.length).toBeLessThanOrEqual(60);
    const m = /^((?:&lt;)*)… \(truncated, (\d+) more characters\)$/.exec(out);
    expect(m).not.toBeNull();
    expect((m?.[1]?.length ?? 0) / 4 + Number(m?.[2])).toBe(100);
    expect(Array.from(fitText('😀'.repeat(100), 50, false)).every((ch) => ch !== '\uFFFD')).toBe(true);
  });
});
