/**
 * The approvals Directory on the Slack Web API: user group membership
 * (`usergroups.users.list`) and a user's email (`users.info`), cached briefly
 * so a burst of clicks costs one call per group. Failures propagate: the
 * approval service refuses the vote rather than guess (fail closed).
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

  /**
   * A user's email (users.info, needs users:read.email): the owner check and the
   * audit trail. Undefined when Slack has none (or the scope is missing); throws
   * when Slack cannot be asked. Either way the vote is refused.
   */
  async emailOf(slackUserId: string): Promise<string | undefined> {
    const hit = this.profiles.get(slackUserId);
    if (hit && this.fresh(hit.at)) return hit.email;
    const email = this.options.client.users.info({ user: slackUserId }).then((r) => r.user?.profile?.email);
    email.catch(() => this.profiles.delete(slackUserId));
    this.profiles.set(slackUserId, { at: (this.options.now ?? Date.now)(), email });
    return email;
  }
}
