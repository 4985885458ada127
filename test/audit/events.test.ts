/** The pure event model: canonical JSON, the hash rule, statuses and index terms. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, chainEvent, GENESIS_HASH, hashEvent, indexTerms, nameSuffixes, recordOf, statusAfter } from '../../src/audit/events.ts';
import { decision, sessionEvents } from './fixtures.ts';

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    [{ z: { y: 2, x: 1 }, u: undefined }, '{"z":{"x":1,"y":2}}'],
    ['é\n', '"é\\n"'],
    [[1.5, -0, 1e21], '[1.5,0,1e+21]'],
    [[undefined, false, { d: new Date(0) }], '[null,false,{"d":"1970-01-01T00:00:00.000Z"}]'],
    [{ é: 1, Z: 2, a: 3, 10: 4, 9: 5 }, '{"10":4,"9":5,"Z":2,"a":3,"é":1}'],
  ])('%j → %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('refuses values a verifier could not reproduce', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});

describe('hash chain rule', () => {
  it('hash = sha256(prevHash + canonical(event without hash))', () => {
    const input = sessionEvents({ id: 'q1' })[0]!;
    const e = chainEvent(input, 1, GENESIS_HASH, '2024-01-01T00:00:00.000Z');
    const expected = createHash('sha256').update(GENESIS_HASH + canonicalJson(recordOf(e))).digest('hex');
    expect(e.hash).toBe(expected);
    expect(hashEvent({ ...recordOf(e), data: { ...e.data, sql: 'select 2' } } as never)).not.toBe(e.hash);
    expect(Object.keys(recordOf({ ...e, id: '1-0' })).sort()).toEqual(['at', 'data', 'prevHash', 'seq', 'session', 'type', 'v']);
  });

  it('hashes a sparse array as the null its stored JSON holds, so verify recomputes the same hash', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    const rows = [[1, , 2]];
    const e = chainEvent({ type: 'execution_finished', session: 's', data: { rows: 1, durationMs: 1, resultSha256: 'x', masking: { columns: [] }, preview: { columns: ['A', 'B', 'C'], rows } } } as never, 1, GENESIS_HASH, '2024-01-01T00:00:00.000Z');
    const readBack = JSON.parse(JSON.stringify(e)) as typeof e;
    expect(hashEvent(recordOf(readBack))).toBe(e.hash);
  });

  it('hashes an event read back (with its hash and stream id) as its record', () => {
    const e = chainEvent(sessionEvents({ id: 'q1' })[1]!, 7, GENESIS_HASH, '2024-01-01T00:00:00.000Z');
    expect(hashEvent({ ...e, id: '1-0' } as never)).toBe(e.hash);
    expect(hashEvent(recordOf({ ...e, id: '1-0' }))).toBe(e.hash);
  });
});

describe('statusAfter', () => {
  it.each([
    [{ type: 'decided', session: 's', data: { decision: decision([], [], 'deny') } }, 'denied'],
    [{ type: 'decided', session: 's', data: { decision: decision([], [], 'review') } }, 'pending_approval'],
    [{ type: 'decided', session: 's', data: { decision: decision([], [], 'allow') } }, 'approved'],
    [{ type: 'failed', session: 's', data: { code: 'X', message: 'm', outcomeUnknown: true } }, 'outcome_unknown'],
    [{ type: 'execution_finished', session: 's', data: { rows: 1, durationMs: 1, resultSha256: 'x', masking: { columns: [] } } }, 'succeeded'],
    [{ type: 'vote', session: 's', data: { voter: { slackUserId: 'U1' }, vote: 'approve' } }, undefined],
  ] as const)('%j', (event, status) => {
    expect(statusAfter(event as never)).toBe(status);
  });
});

describe('index terms', () => {
  it('indexes tables and columns under every suffix', () => {
    expect(nameSuffixes('analytics.public.customers')).toEqual(['ANALYTICS.PUBLIC.CUSTOMERS', 'PUBLIC.CUSTOMERS', 'CUSTOMERS']);
    expect(nameSuffixes('a.b.c.d', 2)).toEqual(['A.B.C.D', 'B.C.D', 'C.D']);
    // Empty parts do not count as parts.
    expect(nameSuffixes('.a..b.', 1)).toEqual(['A.B', 'B']);
    expect(nameSuffixes('', 1)).toEqual([]);
    expect(nameSuffixes('x', 2)).toEqual([]);
    const terms = indexTerms({ type: 'decided', session: 's', data: { decision: decision(['ANALYTICS.PUBLIC.CUSTOMERS'], ['ANALYTICS.PUBLIC.CUSTOMERS.SSN']) } }).terms;
    expect(terms).toEqual(expect.arrayContaining(['obj:CUSTOMERS', 'obj:CUSTOMERS.SSN', 'obj:PUBLIC.CUSTOMERS.SSN']));
    expect(terms).not.toContain('obj:SSN');
  });
});
