/**
 * A Slack Web API request body as `@slack/web-api` sends it: a form whose
 * JSON-valued fields (`blocks`, `view`, …) are JSON strings, or JSON. Read by
 * the sandbox's Web API and by the tests' fake Slack.
 */

type Json = Record<string, unknown>;

/** Fields web-api JSON-encodes inside a form body. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'files', 'metadata', 'users', 'file_uploads']);

/** A Web API request body: JSON, or a form whose JSON-valued fields (`blocks`, `view`, …) are parsed. Throws on bad JSON. */
export function parseWebApiBody(raw: string, contentType: string): Json {
  if (raw.length === 0) return {};
  if (contentType.includes('application/json')) {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null ? (v as Json) : {};
  }
  const out: Json = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(k) && /^\s*[[{]/.test(v)) {
      try {
        out[k] = JSON.parse(v);
        continue;
      } catch {
        // Slack would reject it; keep the string so the validator complains.
      }
    }
    out[k] = v;
  }
  return out;
}

/** A field as a string (numbers too, as form bodies carry them). */
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
