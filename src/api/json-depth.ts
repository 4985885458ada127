/**
 * How deeply a JSON text nests, found with one pass over its characters
 * before JSON.parse: no Airlock body nests more than a few levels, and a value
 * nested tens of thousands deep parses fine but overflows the stack of
 * whatever walks it next (JSON.stringify, a schema, a protocol library).
 */

/** Deepest nesting any JSON body may have; deeper bodies are refused as INVALID_JSON. */
export const MAX_JSON_DEPTH = 200;

/** True when `text` opens more than `max` arrays/objects inside one another (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
