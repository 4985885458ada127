/**
 * Host files stay out of reach (found by an end-to-end red-team pass): DuckDB
 * reads a table name that looks like a path (`"/."."/."."/work/x.json"` becomes
 * the file `/../../work/x.json`), a string in FROM, `read_text(…)` and globs as
 * files. Through `npm start`'s emulator an allowed read returned the dev
 * issuer's client secret, and with it any token.
 *
 * Two walls, each tested on its own: the emulator's DuckDB has external access
 * off (real snowflake-sdk against the emulator), and the policy never allows a
 * FROM item that is a string or a path-shaped name (pure engine, shipped policy).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'snowflake-sdk';
import type { Emulator } from '../../src/emulator/server.ts';
import { createPolicyEngine } from '../../src/policy/engine.ts';
import { parsePolicy } from '../../src/policy/schema.ts';
import { connect, destroy, emulator, exec, execError } from '../emulator/wire-helpers.ts';

const SECRET = 'airlock-host-file-canary-7f3c';
let dir: string;
let emu: Emulator;
let conn: Connection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-hostfiles-'));
  await writeFile(join(dir, 'secret.json'), JSON.stringify({ clientSecret: SECRET }));
  await writeFile(join(dir, 'secret.csv'), `clientSecret\n${SECRET}\n`);
  emu = await emulator({ seed: 'demo' });
  conn = await connect(emu, { database: 'ANALYTICS', schema: 'PUBLIC' });
});
afterAll(async () => {
  if (conn) await destroy(conn);
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const fileReads = () => [
  `select * from "/."."/."."${dir}/secret.json"`,
  `select * from "${dir}/secret.json"`,
  `select * from "${dir}/secret.csv"`,
  `select * from "${dir}/*.json"`,
  `select * from '${dir}/secret.json'`,
  `select * from read_text('${dir}/secret.json')`,
  `select * from read_json_auto('${dir}/secret.json')`,
  `select * from read_csv('${dir}/secret.csv')`,
  `select content from read_text('${dir}/*.json')`,
];

describe('the emulator reads no host file', () => {
  it('every file-reading form fails, and none returns the file', async () => {
    for (const sql of fileReads()) {
      const err = await execError(conn, sql);
      expect(err, sql).toBeDefined();
      expect(JSON.stringify(err), sql).not.toContain(SECRET);
    }
  });

  it('and external access cannot be turned back on', async () => {
    const err = await execError(conn, 'set enable_external_access = true');
    expect(err).toBeDefined();
    expect((await execError(conn, `select * from read_text('${dir}/secret.json')`))).toBeDefined();
  });

  it('the demo tables still read', async () => {
    const { rows } = await exec(conn, 'select count(*) as n from customers');
    expect(Number(rows[0]!.N)).toBeGreaterThan(0);
  });
});

describe('the policy never allows a FROM item shaped like a file', () => {
  const parsed = parsePolicy(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8'));
  if (!parsed.ok) throw new Error('policies/default.yaml is invalid');
  const engine = createPolicyEngine(parsed.policy, { cacheSize: 0 });
  const SHAPES = [
    'select * from \'/etc/hostname\'',
    'select * from "/."."/."."/work/main/.airlock/dev-issuer.json"',
    'select * from "/work/main/node_modules/**/package.json"',
    'select * from "dev-issuer.json"',
    'select * from "exports.csv"',
    'select * from public."data.parquet"',
    'select * from "C:\\\\secrets\\\\x.json"',
    'select o.order_id from orders o join \'/tmp/x.csv\' f on true',
  ];
  it.each(SHAPES)('%s is not allowed', (sql) => {
    const d = engine.evaluate(sql);
    expect(d.action).not.toBe('allow');
    expect(d.complete).toBe(false);
  });

  it('odd but ordinary quoted names stay allowed', () => {
    expect(engine.evaluate('select * from "Order Items" limit 5').action).toBe('allow');
    expect(engine.evaluate('select * from "v2_orders" limit 5').action).toBe('allow');
  });
});
