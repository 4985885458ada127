/**
 * Red-team checks of the masking plan (issue 11, classes 1 and 2): what the
 * worker does with an output whose lineage the attacker tried to hide. An
 * output traced to a sensitive column through correlation, a whole row used as
 * a value, or a JSON path is redacted whole; an output Airlock cannot trace at
 * all is left to the value detectors (and its statement is never allowed: see
 * policy-soundness.test.ts). Pure: the plan is computed from SQL and the
 * shipped catalog; masking of real results runs in leak.e2e.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planColumns } from '../../src/masking/plan.ts';
import { createMasker } from '../../src/masking/strategies.ts';
import { catalogLookup } from '../../src/policy/engine.ts';
import { parsePolicy } from '../../src/policy/schema.ts';

const parsed = parsePolicy(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8'));
if (!parsed.ok) throw new Error('policies/default.yaml is invalid');
const catalog = catalogLookup(parsed.policy.file.sensitive);
const masker = createMasker({ hashKey: Buffer.alloc(32, 7) });
const plan = (sql: string, columns: string[]) =>
  planColumns({ sql, columns, defaults: { database: 'ANALYTICS', schema: 'PUBLIC' }, catalog, masker }).map((c) => c.rule?.strategy ?? 'scan');

describe('masking plan under attack', () => {
  it.each<[string, string[]]>([
    ['select (select max(notes) from orders) n from customers', ['N']],
    ["select (select listagg(ssn, ',') from (select 1 x)) s from customers", ['S']],
    ["select (select reverse(max(email)) from table(generator(rowcount => 1))) e from customers", ['E']],
    ['select c::varchar v from customers c', ['V']],
    ['select to_json(c) j from customers c', ['J']],
    ['select object_construct(c.*) o from customers c', ['O']],
    ['select c.profile:ssn::string p from customers c', ['P']],
    ["select translate(c.phone, '0123456789', 'abcdefghij') t from customers c", ['T']],
    ['select e::varchar from hr.core.employees e', ['E']],
  ])('%s → redacted whole', (sql, columns) => {
    expect(plan(sql, columns)).toEqual(columns.map(() => 'redact'));
  });

  it('the catalog knows which tables may hold a sensitive column (for whole rows)', () => {
    expect(catalog.anyColumn('ANALYTICS.PUBLIC.CUSTOMERS')).toBeDefined();
    expect(catalog.anyColumn('ANALYTICS.PUBLIC.ORDERS')).toBeDefined();
  });
});
