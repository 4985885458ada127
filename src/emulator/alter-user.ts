/**
 * `ALTER USER … SET | UNSET RSA_PUBLIC_KEY[_2]`: the statements an operator
 * runs to rotate a key through Snowflake's two slots (docs/operations.md), so
 * a rotation can be rehearsed against the emulator with the real driver. Only
 * these two properties are understood; any other ALTER USER is left to the SQL
 * layer, which refuses it.
 */
import type { KeySlot } from './auth.ts';

/** One slot change: `pem` undefined clears the slot. */
export interface AlterUserKey {
  user: string;
  slot: KeySlot;
  pem: string | undefined;
}

const NAME = `("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const SET = new RegExp(String.raw`^alter\s+user\s+(?:if\s+exists\s+)?${NAME}\s+set\s+rsa_public_key(_2)?\s*=\s*'([^']*)'$`, 'i');
const UNSET = new RegExp(String.raw`^alter\s+user\s+(?:if\s+exists\s+)?${NAME}\s+unset\s+rsa_public_key(_2)?$`, 'i');

/** The user name as Snowflake resolves it: quoted as written, unquoted folded to upper case. */
function userName(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw.toUpperCase();
}

/** The key text as Snowflake takes it (the base64 body, with or without PEM armour) as a PEM public key. */
function pemOf(value: string): string {
  const body = value.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/** The slot change `sql` asks for, or undefined when it is not one. */
export function parseAlterUserKey(sql: string): AlterUserKey | undefined {
  const text = sql.trim().replace(/;\s*$/, '').trim();
  const set = SET.exec(text);
  if (set) return { user: userName(set[1]!), slot: set[2] ? 2 : 1, pem: pemOf(set[3]!) };
  const unset = UNSET.exec(text);
  if (unset) return { user: userName(unset[1]!), slot: unset[2] ? 2 : 1, pem: undefined };
  return undefined;
}
