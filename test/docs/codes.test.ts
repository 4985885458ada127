/**
 * docs/api.md lists every stable code, and nothing else: the HTTP error codes
 * with their statuses, the codes only a query's `error` carries, and the
 * policy's reason codes with their risks. Adding a code without documenting it
 * (or documenting one that does not exist) fails here.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AIRLOCK_ERROR_CODES, httpStatusFor, QUERY_OUTCOME_CODES } from '../../src/errors.ts';
import { REASON_CODES, riskOfCode } from '../../src/policy/codes.ts';

const api = await readFile(new URL('../../docs/api.md', import.meta.url), 'utf8');

/** The rows of the first table under `### <heading>`, as cells, keyed by the code in the first column. */
function tableUnder(heading: string): Map<string, string[]> {
  const lines = api.split('\n');
  const start = lines.indexOf(`### ${heading}`);
  expect(start, `docs/api.md has a "### ${heading}" section`).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string[]>();
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const code = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[0] ?? '')?.[1];
    if (!code) continue;
    expect(rows.has(code), `${code} is listed once under "${heading}"`).toBe(false);
    rows.set(code, cells);
  }
  return rows;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('docs/api.md lists every code', () => {
  it('error codes: the AirlockErrorCode union, each with its HTTP status', () => {
    const rows = tableUnder('Error codes');
    expect(sorted(rows.keys())).toEqual(sorted(AIRLOCK_ERROR_CODES));
    for (const [code, cells] of rows) expect(`${code} ${cells[1]}`).toBe(`${code} ${httpStatusFor(code as (typeof AIRLOCK_ERROR_CODES)[number])}`);
  });

  it('query error codes: the codes a query ends with that are never HTTP errors', () => {
    const rows = tableUnder('Query error codes');
    expect(sorted(rows.keys())).toEqual(sorted(QUERY_OUTCOME_CODES));
    for (const code of QUERY_OUTCOME_CODES) expect(AIRLOCK_ERROR_CODES).not.toContain(code);
  });

  it('reason codes: the ReasonCode union, each with its risk', () => {
    const rows = tableUnder('Reason codes');
    expect(sorted(rows.keys())).toEqual(sorted(REASON_CODES));
    for (const [code, cells] of rows) expect(`${code} ${cells[1]}`).toBe(`${code} ${riskOfCode(code) ?? '—'}`);
  });
});
