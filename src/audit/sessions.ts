/**
 * Who may read which sessions (GET /v1/sessions, GET /v1/sessions/:id).
 *
 * A reviewer — a token with the reviewer scope (AIRLOCK_REVIEWER_SCOPE,
 * `airlock:review` by default, `off` for none), or a member of one of
 * AIRLOCK_REVIEWER_GROUPS — searches and replays every session. Anyone else
 * (an agent) sees only sessions it started itself: its searches are pinned to
 * its own agent id, and another agent's session is "not found", the same
 * answer as for an id that never existed, so ids cannot be probed.
 */
import { AirlockError } from '../errors.ts';
import { hashEvent, recordOf, type StoredEvent } from './events.ts';
import type { AuditSearch, SessionPage, SessionQuery, SessionSummary } from './search.ts';

/** The scope that opens every session. */
export const REVIEW_SCOPE = 'airlock:review';

export interface SessionAccessOptions {
  /** Token groups whose members are reviewers (AIRLOCK_REVIEWER_GROUPS). */
  reviewerGroups: readonly string[];
  /** The scope that makes a token a reviewer (AIRLOCK_REVIEWER_SCOPE, default `airlock:review`); `off`: no scope does. */
  reviewerScope?: string;
}

/** A session replayed: its summary and every event still in Redis, in order. */
export interface SessionTranscript {
  id: string;
  summary?: SessionSummary;
  /** Whether every event's own hash matches its content (the links between sessions are checked by `airlock audit verify`). */
  integrity: { events: number; hashesValid: boolean; firstInvalidSeq?: number };
  /** True when some of the session's events were trimmed from Redis after export (they live in the exports). */
  partial: boolean;
  events: StoredEvent[];
/** `reviewer` sees everything; `agent` sees its own sessions with people's emails left out. */
  view: 'reviewer' | 'agent';
}

/** Who asks: the fields of an authenticated caller that session access reads. */
export interface SessionReader {
  id: string;
  groups: readonly string[];
  /** OAuth scopes of the token (the review scope opens every agent's sessions). */
  scopes?: readonly string[];
}

export class SessionAccess {
  private readonly reviewerGroups: ReadonlySet<string>;
  private readonly reviewerScope: string | undefined;

  constructor(
    private readonly search: AuditSearch,
    options: SessionAccessOptions,
  ) {
    this.reviewerGroups = new Set(options.reviewerGroups);
    const scope = options.reviewerScope ?? REVIEW_SCOPE;
    this.reviewerScope = scope === 'off' ? undefined : scope;
  }

  isReviewer(requester: SessionReader): boolean {
    const byScope = this.reviewerScope !== undefined && (requester.scopes ?? []).includes(this.reviewerScope);
    return byScope || requester.groups.some((g) => this.reviewerGroups.has(g));
  }

  /** Search; an agent's search is limited to its own sessions (asking for another agent's is 403). */
  async find(requester: SessionReader, query: SessionQuery): Promise<SessionPage & { view: 'reviewer' | 'agent' }> {
    if (this.isReviewer(requester)) return { ...(await this.search.search(query)), view: 'reviewer' };
    if (query.agent !== undefined && query.agent !== requester.id) {
      throw new AirlockError('FORBIDDEN', `Only reviewers search other agents' sessions; your token sees only sessions of ${requester.id}.`);
    }
    if (query.approver?.includes('@')) {
      // Approvers' emails are for reviewers: not even as a yes/no probe against one's own sessions.
      throw new AirlockError('FORBIDDEN', "Only reviewers search by an approver's email; filter by the approver's Slack user id instead.");
    }
    const page = await this.search.search({ ...query, agent: requester.id });
    return { ...page, sessions: page.sessions.map(agentSummary), view: 'agent' };
  }

  /** Replay one session in order. */
  async transcript(requester: SessionReader, id: string): Promise<SessionTranscript> {
    const reviewer = this.isReviewer(requester);
    const [summary] = await this.search.summaries([id]);
    if (!reviewer && summary?.agent !== requester.id) throw new AirlockError('NOT_FOUND', `No session with id ${id}.`);
    const events = await this.search.transcript(id);
    if (!reviewer && events.some((e) => e.type === 'received' && e.data.agent !== requester.id)) {
      throw new AirlockError('NOT_FOUND', `No session with id ${id}.`);
    }
    const bad = events.find((e) => hashEvent(recordOf(e)) !== e.hash);
    return {
      id,
      ...(summary ? { summary: reviewer ? summary : agentSummary(summary) } : {}),
      integrity: { events: events.length, hashesValid: bad === undefined, ...(bad ? { firstInvalidSeq: bad.seq } : {}) },
      partial: summary !== undefined && summary.events > events.length,
      events: reviewer ? events : events.map(withoutEmails),
      view: reviewer ? 'reviewer' : 'agent',
    };
  }
}

/** Approvers' emails are for reviewers; an agent sees that someone voted, and how. */
function agentSummary(summary: SessionSummary): SessionSummary {
  return { ...summary, votes: summary.votes.map((v) => (v.who.includes('@') ? { ...v, who: 'an approver' } : v)) };
}

function withoutEmails(event: StoredEvent): StoredEvent {
  if ((event.type !== 'vote' && event.type !== 'vote_refused') || event.data.voter.email === undefined) return event;
  const { email: _email, ...voter } = event.data.voter;
  return { ...event, data: { ...event.data, voter } } as StoredEvent;
}
