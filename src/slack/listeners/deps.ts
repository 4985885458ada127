/**
 * What the Slack listeners need from the rest of Airlock, and the voter they
 * build from a Slack user. Shared by the button, modal and command listeners.
 */
import type { ApprovalService } from '../../approvals/service.ts';
import type { AuditSearch } from '../../audit/search.ts';
import type { Logger } from '../../log.ts';
import type { CardNotifier } from '../../queue/slack-queue.ts';
import type { QueryStore } from '../../queries/store.ts';
import type { QueryAccess } from '../access.ts';

/** The services behind the listeners (the part of `SlackAppDeps` that is not transport). */
export interface ListenerDeps {
  approvals: ApprovalService;
  queries: QueryStore;
  cards: CardNotifier;
  logger: Logger;
  /**
   * The user's email (users.info), for the owner check and the audit trail.
   * Absent, failing or answering undefined: every vote is refused (Airlock
   * cannot prove the voter is not the agent's owner).
   */
  emailOf?: (slackUserId: string) => Promise<string | undefined>;
  /** Who may use `/airlock pending`, `show` and `search`; absent: nobody (fail closed). */
  access?: Pick<QueryAccess, 'readerOf'>;
  /** The session log's index, for `/airlock search`. */
  sessions: AuditSearch;
}

/** The voter of a click or a modal submission: Slack id, name, and email when users.info answers. */
export const voterOf = async (deps: ListenerDeps, user: { id: string; name?: string; username?: string }) => {
  const email = await deps.emailOf?.(user.id).catch((err: Error) => {
    deps.logger.warn({ component: 'slack', user: user.id, err: err.message }, 'users.info failed: the vote will be refused');
    return undefined;
  });
  const name = user.username ?? user.name;
  return { slackUserId: user.id, ...(name ? { name } : {}), ...(email ? { email } : {}) };
};
