/**
 * The approvals Directory on the Slack Web API: user group membership
 * (`usergroups.users.list`) and email → user (`users.lookupByEmail`), cached
 * briefly so a burst of clicks costs one call per group. Failures propagate:
 * the approval service refuses the vote rather than guess (fail closed).
 */
import type { WebClient } from '@slack/web-api';
import type { Directory } from '../approvals/service.ts';

export interface SlackDirectoryOptions {
  client: WebClient;
  /** The user group ids the policy names; only these are ever looked up. */
  usergroups: readonly string[];
  ttlMs?: number;
  now?: () => number;
}

export class SlackDirectory implements Directory {
  private readonly members = new Map<string, { at: number; users: Promise<Set<string>> }>();
  private readonly emails = new Map<string, { at: number; id: Promise<string | undefined> }>();
  private readonly profiles = new Map<string, { at: number; email: Promise<string | undefined> }>();

  constructor(private readonly options: SlackDirectoryOptions) {}

  private fresh(at: number): boolean {
    return (this.options.now ?? Date.now)() - at < (this.options.ttlMs ?? 60_000);
  }

  private groupMembers(group: string): Promise<Set<string>> {
    const hit = this.members.get(group);
    if (hit && this.fresh(hit.at)) return hit.users;
    const users = this.options.client.usergroups.users.list({ usergroup: group }).then((r) => new Set((r.users ?? []) as string[]));
    // A failed lookup is not cached.
    users.catch(() => this.members.delete(group));
    this.members.set(group, { at: (this.options.now ?? Date.now)(), users });
    return users;
  }

  async usergroupsOf(slackUserId: string): Promise<string[]> {
    const out: string[] = [];
    for (const group of this.options.usergroups) {
      if ((await this.groupMembers(group)).has(slackUserId)) out.push(group);
    }
    return out;
  }

  async slackIdForEmail(email: string): Promise<string | undefined> {
    const key = email.toLowerCase();
    const hit = this.emails.get(key);
    if (hit && this.fresh(hit.at)) return hit.id;
    const id = this.options.client.users
      .lookupByEmail({ email })
      .then((r) => r.user?.id)
      .catch((err: { code?: string; data?: { error?: string } }) => {
        // "No such user" is an answer; anything else is a failure.
        if (err?.data?.error === 'users_not_found') return undefined;
        throw err;
      });
    id.catch(() => this.emails.delete(key));
    this.emails.set(key, { at: (this.options.now ?? Date.now)(), id });
    return id;
  }

  /** A user's email (users.info, needs users:read.email) for the audit trail; undefined when Slack has none. */
  async emailOf(slackUserId: string): Promise<string | undefined> {
    const hit = this.profiles.get(slackUserId);
    if (hit && this.fresh(hit.at)) return hit.email;
    const email = this.options.client.users.info({ user: slackUserId }).then((r) => r.user?.profile?.email);
    email.catch(() => this.profiles.delete(slackUserId));
    this.profiles.set(slackUserId, { at: (this.options.now ?? Date.now)(), email });
    return email;
  }
}
