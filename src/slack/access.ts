/**
 * Who may read pending queries in Slack (`/airlock pending`, `show`, `search`).
 *
 * Those answers carry a query's SQL (literals masked), the agent, its owner's
 * email and the votes, so they go only to people who could see the card
 * anyway: **approvers** (listed in any policy `approvers` group, directly or
 * through one of its Slack user groups) and **reviewers** (the Slack users and
 * user groups in `AIRLOCK_SLACK_REVIEWERS`). Everyone else gets a refusal. The
 * answers are ephemeral, so the channel a command is typed in does not widen
 * who sees them. A Slack lookup that fails refuses (fail closed).
 */
import type { Directory } from '../approvals/service.ts';
import type { PolicyFile } from '../policy/schema.ts';

/** Why someone may read queries; undefined: they may not. */
export type QueryReader = 'approver' | 'reviewer';

export interface QueryAccessOptions {
  approvers: PolicyFile['approvers'];
  /** Slack user ids (U…, W…) and user group ids (S…) of reviewers (AIRLOCK_SLACK_REVIEWERS). */
  reviewers: readonly string[];
  /** User group membership; only groups named by the policy or the reviewers list are asked about. */
  directory: Directory;
}

export class QueryAccess {
  private readonly users = new Map<string, QueryReader>();
  private readonly groups = new Map<string, QueryReader>();

  constructor(private readonly options: QueryAccessOptions) {
    // Reviewers first, so an approver who is also a reviewer is named as an approver.
    for (const id of options.reviewers) (id.startsWith('S') ? this.groups : this.users).set(id, 'reviewer');
    for (const group of Object.values(options.approvers)) {
      for (const u of group.slack_users) this.users.set(u, 'approver');
      for (const s of group.slack_usergroups) this.groups.set(s, 'approver');
    }
  }

  /** The Slack user group ids a check may ask about: the directory must be able to list them. */
  static usergroupsOf(approvers: PolicyFile['approvers'], reviewers: readonly string[]): string[] {
    return [...new Set([...Object.values(approvers).flatMap((a) => a.slack_usergroups), ...reviewers.filter((id) => id.startsWith('S'))])];
  }

  /** Why `slackUserId` may read queries, or undefined. Throws when Slack cannot say (the caller refuses). */
  async readerOf(slackUserId: string): Promise<QueryReader | undefined> {
    const direct = this.users.get(slackUserId);
    if (direct === 'approver') return direct;
    if (this.groups.size === 0) return direct;
    const mine = await this.options.directory.usergroupsOf(slackUserId);
    let via: QueryReader | undefined = direct;
    for (const s of mine) {
      const r = this.groups.get(s);
      if (r === 'approver') return r;
      if (r) via = r;
    }
    return via;
  }
}
