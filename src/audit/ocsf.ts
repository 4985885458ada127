/**
 * OCSF "API Activity" (class 6003) records for SIEMs, written next to the
 * native JSONL when asked. Pure. The native line stays the source of truth
 * (only it is hash-chained); each OCSF record names the native event's hash in
 * `metadata.uid` so a SIEM finding can be traced back and verified.
 */
import type { ChainedEvent } from './events.ts';

const ACTIVITY: Record<ChainedEvent['type'], { id: number; name: string }> = {
  received: { id: 1, name: 'Create' },
  decided: { id: 99, name: 'Other' },
  card_posted: { id: 99, name: 'Other' },
  vote: { id: 3, name: 'Update' },
  vote_refused: { id: 99, name: 'Other' },
  approved: { id: 3, name: 'Update' },
  rejected: { id: 3, name: 'Update' },
  expired: { id: 3, name: 'Update' },
  cancelled: { id: 4, name: 'Delete' },
  execution_started: { id: 2, name: 'Read' },
  execution_finished: { id: 2, name: 'Read' },
  failed: { id: 2, name: 'Read' },
  summary_posted: { id: 99, name: 'Other' },
};

/** One OCSF 1.3 API Activity record for an event. */
export function toOcsfApiActivity(event: ChainedEvent): Record<string, unknown> {
  const activity = ACTIVITY[event.type];
  const failed = event.type === 'failed' || event.type === 'rejected' || event.type === 'vote_refused' || (event.type === 'decided' && event.data.decision.action === 'deny');
  const record: Record<string, unknown> = {
    class_uid: 6003,
    class_name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: 6003 * 100 + activity.id,
    severity_id: failed ? 3 : 1,
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    time: Date.parse(event.at),
    api: { operation: event.type, service: { name: 'airlock' } },
    metadata: {
      version: '1.3.0',
      product: { name: 'Airlock', vendor_name: 'Airlock' },
      uid: event.hash,
      correlation_uid: event.session,
      sequence: event.seq,
    },
    unmapped: { data: event.data, prev_hash: event.prevHash },
  };
  if (event.type === 'received') {
    record.actor = { user: { uid: event.data.agent, name: event.data.agentName ?? event.data.agent, ...(event.data.owner ? { email_addr: event.data.owner } : {}) } };
    if (event.data.clientAddress) record.src_endpoint = { ip: event.data.clientAddress };
    if (event.data.userAgent) record.http_request = { user_agent: event.data.userAgent };
  } else if (event.type === 'vote') {
    record.actor = { user: { uid: event.data.voter.slackUserId, ...(event.data.voter.email ? { email_addr: event.data.voter.email } : {}) } };
  } else if (event.actor) {
    record.actor = { user: { uid: event.actor } };
  }
  if (event.type === 'decided') {
    record.resources = [...new Set(event.data.decision.statements.flatMap((s) => s.tables))].map((name) => ({ type: 'table', name }));
  }
  return record;
}
