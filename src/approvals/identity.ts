/**
 * Who a person is, across the IdP and Slack: one canonical email address.
 *
 * The agent's owner comes from the token's owner claim (an email the IdP
 * wrote); an approver comes from Slack (`users.info` → `profile.email`). The
 * two are the same person far more often than the raw strings are equal
 * (`Owner+agent@Example.com` vs `owner@example.com`, a second mail domain), and
 * separation of duties must not hinge on that. So both sides are reduced to a
 * canonical form before they are compared: trimmed, lower-cased, the `+tag`
 * of the local part dropped, then the operator's aliases applied
 * (`AIRLOCK_IDENTITY_ALIASES`). Folding more addresses together can only refuse
 * more votes, never count more, which is the safe direction. Pure.
 */

/** Operator-declared aliases: whole addresses and whole domains that mean another identity. */
export interface IdentityAliases {
  /** Canonical alias address → canonical identity address. */
  addresses: ReadonlyMap<string, string>;
  /** Alias domain → identity domain (lower case, no `@`). */
  domains: ReadonlyMap<string, string>;
}

export const NO_ALIASES: IdentityAliases = { addresses: new Map(), domains: new Map() };

const DOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;
const LOCAL = /^[a-z0-9!#$%&'*/=?^_`{|}~.-]+$/;

/**
 * Case and plus-addressing only: `Local+Tag@Domain` → `local@domain`.
 * Undefined when the text is not a plain email address.
 */
export function normalizeEmail(email: string): string | undefined {
  const t = email.trim().toLowerCase();
  const at = t.lastIndexOf('@');
  if (at <= 0 || at === t.length - 1) return undefined;
  const local = t.slice(0, at).split('+')[0]!;
  const domain = t.slice(at + 1).replace(/\.$/, '');
  if (!local || !LOCAL.test(local) || !DOMAIN.test(domain)) return undefined;
  return `${local}@${domain}`;
}

/** True when an owner claim names nobody Airlock can compare with Slack: absent, or not an email address. */
export function isOwnerless(owner: string | undefined): boolean {
  return owner === undefined || normalizeEmail(owner) === undefined;
}

/**
 * The canonical identity of an email address: {@link normalizeEmail}, then the
 * domain alias, then the address alias. Undefined when it is not an address.
 */
export function canonicalIdentity(email: string | undefined, aliases: IdentityAliases = NO_ALIASES): string | undefined {
  if (email === undefined) return undefined;
  const normal = normalizeEmail(email);
  if (!normal) return undefined;
  const at = normal.lastIndexOf('@');
  const domain = normal.slice(at + 1);
  const mapped = aliases.domains.get(domain);
  const address = mapped ? `${normal.slice(0, at)}@${mapped}` : normal;
  return aliases.addresses.get(address) ?? address;
}

/** One problem in an alias list, for the config error. */
export interface AliasProblem {
  entry: string;
  message: string;
}

/**
 * Parse `AIRLOCK_IDENTITY_ALIASES`: comma- or newline-separated `alias=identity`
 * pairs, each side an address (`bot-owner@corp.example=owner@example.com`) or a
 * domain written `@corp.example=@example.com`. Both sides are normalised the
 * same way the compared addresses are. A target that is itself an alias is
 * refused (point every alias at the final identity), as is an alias with two
 * targets.
 */
export function parseIdentityAliases(text: string): { aliases: IdentityAliases; problems: AliasProblem[] } {
  const addresses = new Map<string, string>();
  const domains = new Map<string, string>();
  const problems: AliasProblem[] = [];
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter(Boolean);
  const pending: Array<{ entry: string; from: string; to: string }> = [];
  for (const entry of entries) {
    const parts = entry.split('=');
    if (parts.length !== 2 || !parts[0]!.trim() || !parts[1]!.trim()) {
      problems.push({ entry, message: 'write alias=identity, e.g. bot-owner@corp.example=owner@example.com or @corp.example=@example.com' });
      continue;
    }
    const [from, to] = [parts[0]!.trim().toLowerCase(), parts[1]!.trim().toLowerCase()];
    const fromDomain = from.startsWith('@');
    if (fromDomain !== to.startsWith('@')) {
      problems.push({ entry, message: 'map a domain to a domain (@a=@b) or an address to an address (a@x=b@y), not one to the other' });
      continue;
    }
    if (fromDomain) {
      const [a, b] = [from.slice(1), to.slice(1)];
      if (!DOMAIN.test(a) || !DOMAIN.test(b)) {
        problems.push({ entry, message: 'not a domain name' });
        continue;
      }
      if (a === b) continue;
      if (domains.has(a) && domains.get(a) !== b) {
        problems.push({ entry, message: `@${a} is already mapped to @${domains.get(a)}` });
        continue;
      }
      domains.set(a, b);
    } else {
      const [a, b] = [normalizeEmail(from), normalizeEmail(to)];
      if (!a || !b) {
        problems.push({ entry, message: 'not an email address' });
        continue;
      }
      pending.push({ entry, from: a, to: b });
    }
  }
  for (const [a, b] of domains) {
    if (domains.has(b)) problems.push({ entry: `@${a}=@${b}`, message: `@${b} is itself an alias; point @${a} at the final domain` });
  }
  // Addresses are keyed in their domain-mapped form, so a lookup after the domain step finds them.
  const withDomain = (address: string) => {
    const at = address.lastIndexOf('@');
    const mapped = domains.get(address.slice(at + 1));
    return mapped ? `${address.slice(0, at)}@${mapped}` : address;
  };
  for (const { entry, from, to } of pending) {
    const [a, b] = [withDomain(from), withDomain(to)];
    if (a === b) continue;
    if (addresses.has(a) && addresses.get(a) !== b) {
      problems.push({ entry, message: `${from} is already mapped to ${addresses.get(a)}` });
      continue;
    }
    addresses.set(a, b);
  }
  for (const [a, b] of addresses) {
    if (addresses.has(b)) problems.push({ entry: `${a}=${b}`, message: `${b} is itself an alias; point ${a} at the final address` });
  }
  return { aliases: { addresses, domains }, problems };
}
