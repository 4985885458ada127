/** A policy decision as `airlock policy check` prints it for people. */
import type { Decision } from '../../policy/decision.ts';

/**
 * A decision for people: action and risk, reasons with codes and rules, approvals,
 * then each statement. Statements are numbered from 1 here, as in reason messages
 * (the JSON `statement` field is a 0-based index).
 */
export function formatDecision(d: Decision): string {
  const out: string[] = [];
  out.push(`${d.action.toUpperCase()}  risk ${d.risk}${d.complete ? '' : '  (analysis incomplete: never allowed)'}`);
  if (d.reasons.length > 0) {
    out.push('', 'reasons:');
    for (const r of d.reasons) {
      // A column names its table too; show the table only when no column is named.
      const where = [r.rule ? `rule ${r.rule}` : '', `statement ${r.statement + 1}`, r.column ? `column ${r.column}` : r.table ? `table ${r.table}` : '']
        .filter(Boolean)
        .join(', ');
      out.push(`  ${r.code} (${where})`, `    ${r.message}`);
    }
  }
  if (d.action === 'review') {
    const from = d.approvals.groups.length > 0 ? ` from ${d.approvals.groups.join(', ')}` : '';
    const expires = d.approvals.expiresInSeconds ? `, expires after ${duration(d.approvals.expiresInSeconds)}` : '';
    out.push('', `approvals: ${d.approvals.required}${from}${expires}`);
  }
  if (d.limits?.maxRows !== undefined) out.push('', `row cap: ${d.limits.maxRows}`);
  d.statements.forEach((s, i) => {
    const what = [s.kind, s.object].filter(Boolean).join(' ');
    out.push('', `statement ${i + 1}: ${what}${s.complete ? '' : '  (incomplete)'}`);
    const list = (label: string, items: readonly string[] | undefined) => {
      if (items && items.length > 0) out.push(`  ${label.padEnd(12)}${items.join(', ')}`);
    };
    list('tables:', s.tables);
    list('writes:', s.writes);
    list('columns:', s.columns);
    list('sensitive:', s.sensitive?.map((t) => `${t.name} (${t.type}${t.via.length > 0 ? `, in ${t.via.join('/')}` : ''})`));
    list('categories:', s.categories);
    list('flags:', s.flags);
    list('not known:', s.gaps);
  });
  out.push('', `fingerprint: ${d.fingerprint}`);
  return out.join('\n');
}

function duration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
