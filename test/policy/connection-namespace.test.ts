/**
 * Where the warehouse connection logs in (policy/session-defaults.ts
 * connectionNamespace): where the policy resolves unqualified names, so a
 * statement runs where it was judged — the configured SNOWFLAKE_DATABASE /
 * SNOWFLAKE_SCHEMA, else the policy's defaults, else the analyser's fallback
 * (never the Snowflake user's own default namespace, which the policy never saw).
 */
import { describe, expect, it } from 'vitest';
import { defaultsOf, FALLBACK_NAMESPACE } from '../../src/policy/analyse.ts';
import type { PolicyFile } from '../../src/policy/schema.ts';
import { connectionNamespace } from '../../src/policy/session-defaults.ts';
import { shippedPolicy } from '../support/policies.ts';

async function fileWith(defaults: Partial<PolicyFile['defaults']>): Promise<PolicyFile> {
  const shipped = (await shippedPolicy()).file;
  const { database: _d, schema: _s, ...rest } = shipped.defaults;
  return { ...shipped, defaults: { ...rest, ...defaults } };
}

describe('the namespace the warehouse connection uses', () => {
  it('is the configured one when SNOWFLAKE_DATABASE and SNOWFLAKE_SCHEMA are set', async () => {
    expect(connectionNamespace(await fileWith({ database: 'PROD', schema: 'CRM' }), { database: 'PROD', schema: 'CRM' })).toEqual({ database: 'PROD', schema: 'CRM' });
    expect(connectionNamespace(await fileWith({}), { database: 'SALES', schema: 'EU' })).toEqual({ database: 'SALES', schema: 'EU' });
  });

  it('is the policy’s defaults when nothing is configured, as written', async () => {
    expect(connectionNamespace(await fileWith({ database: 'PROD', schema: '"Mixed Case"' }), {})).toEqual({ database: 'PROD', schema: '"Mixed Case"' });
  });

  it('is where the analyser resolves names when neither names one, part by part', async () => {
    const file = await fileWith({ schema: 'CRM' });
    const ns = connectionNamespace(file, {});
    expect(ns).toEqual({ database: FALLBACK_NAMESPACE.database, schema: 'CRM' });
    // The same place the policy judges unqualified names in.
    expect(defaultsOf(file)).toEqual({ database: ns.database, schema: ns.schema });
  });
});
