/**
 * Resolved object names: `DB.SCHEMA.TABLE[.COLUMN]`, upper-cased, with a part
 * quoted only when it holds a dot or a quote, so a name always splits back into
 * its parts. Pure.
 *
 * Names are compared upper-cased. The parser drops the quotes from "quoted"
 * identifiers, so `"Email"` and `EMAIL` look alike here; matching them as the
 * same name can only over-match, which fails closed.
 */

/** The policy's default database and schema, for names written with fewer parts. */
export interface Defaults {
  database: string;
  schema: string;
}

/** Upper case, as every name part is compared. */
export const up = (s: string) => s.toUpperCase();

/** One name part; quoted when it holds a dot or a quote, so a name always splits back into its parts. */
export const quotePart = (part: string): string => (/[."]/.test(part) ? `"${part.replace(/"/g, '""')}"` : part);
/** `DB.SCHEMA.TABLE[.COLUMN]` from parts (upper-cased: see the file comment). */
export const joinName = (parts: readonly string[]): string => parts.map((p) => quotePart(up(p))).join('.');
/** Split a name made by {@link joinName} back into its parts. */
export function splitName(name: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < name.length) {
    if (name[i] === '"') {
      let j = i + 1;
      let part = '';
      while (j < name.length) {
        if (name[j] === '"' && name[j + 1] === '"') {
          part += '"';
          j += 2;
        } else if (name[j] === '"') break;
        else part += name[j++];
      }
      parts.push(part);
      i = j + 2;
    } else {
      const dot = name.indexOf('.', i);
      const end = dot < 0 ? name.length : dot;
      parts.push(name.slice(i, end));
      i = end + 1;
    }
  }
  return parts;
}
/** The last part of a name made by {@link joinName}. */
export const lastPart = (name: string) => splitName(name).pop()!;

/** DATABASE.SCHEMA.TABLE from one to three name parts (more: the last three), filled in from the defaults. */
export function resolveParts(parts: readonly string[], d: Defaults): string {
  if (parts.length >= 3) return joinName(parts.slice(-3));
  if (parts.length === 2) return joinName([d.database, parts[0]!, parts[1]!]);
  return joinName([d.database, d.schema, parts[0]!]);
}
