/**
 * mrkdwn text for the presenters: escaping, fitting into Slack's limits, and
 * the small formats every card and reply shares (mentions, dates, durations,
 * counts, risk). Pure.
 *
 * Every piece of text that comes from an agent or a user (SQL, prompt, purpose,
 * names, reasons) is escaped for mrkdwn, so a prompt cannot ping `<!channel>`
 * or smuggle a link into a card.
 */
import type { Risk } from '../../policy/decision.ts';

/** Escapes the three characters mrkdwn treats as control (`&`, `<`, `>`). */
export const escapeMrkdwn = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const truncatedNote = (n: number): string => `… (truncated, ${n.toLocaleString('en-US')} more characters)`;

/**
 * Fits `raw` into `max` characters after escaping (when `escapeText`), cutting at a
 * code-point boundary and saying how much was cut. Never returns more than `max`.
 */
export function fitText(raw: string, max: number, escapeText = true): string {
  const enc = escapeText ? escapeMrkdwn : (s: string) => s;
  const full = enc(raw);
  if (full.length <= max) return full;
  const chars = Array.from(raw);
  // Binary search the longest prefix whose escaped form plus the note fits.
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const candidate = enc(chars.slice(0, mid).join('')).length + truncatedNote(chars.length - mid).length;
    if (candidate <= max) lo = mid;
    else hi = mid - 1;
  }
  const out = enc(chars.slice(0, lo).join('').trimEnd()) + truncatedNote(chars.length - lo);
  return out.length <= max ? out : out.slice(0, max);
}

/** Inline code for identifiers; backticks would end the span, so they become quotes. */
export const code = (s: string): string => `\`${escapeMrkdwn(s.replace(/`/g, "'"))}\``;

/** A user mention. */
export const mention = (userId: string): string => `<@${escapeMrkdwn(userId)}>`;

/** A user group: a mention for a Slack subteam id, bold text for a name. */
export const groupLabel = (g: string): string => (/^S[A-Z0-9]{2,}$/.test(g) ? `<!subteam^${g}>` : `*${escapeMrkdwn(g)}*`);

const pad = (n: number): string => String(n).padStart(2, '0');

/** Slack date token: renders in the reader's time zone, with a UTC fallback. */
export function slackDate(iso: string | Date, format = '{date_short_pretty} {time}'): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return escapeMrkdwn(String(iso));
  const fallback = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
  return `<!date^${Math.floor(d.getTime() / 1000)}^${format}|${fallback}>`;
}

/** "1 h", "1 h 30 min", "45 min", "20 s". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  if (h < 48) return rest ? `${h} h ${rest} min` : `${h} h`;
  return `${Math.round(h / 24)} days`;
}

/** "120 ms", "3.2 s". */
export function humanMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** "1 row", "1,234 rows". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The emoji in front of a risk level. */
export const RISK_EMOJI: Record<Risk, string> = { low: '🟢', medium: '🟡', high: '🟠', critical: '🔴' };

/** First letter upper-case. */
export const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Short fingerprint shown on cards. */
export const shortFingerprint = (fp: string): string => fp.slice(0, 12);
