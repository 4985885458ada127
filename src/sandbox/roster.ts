/**
 * Who is in the sandbox workspace, and the dev policy that makes them
 * approvers. Five people, so every answer of the real approval logic can be
 * seen: two approvers (one listed by id, one through a user group, so both
 * identity paths — users.info and usergroups.users.list — are used), the
 * agent's owner (also in the approver group, to show the self-approval
 * refusal), an outsider, and a security reviewer who may read queries with
 * `/airlock` but not approve them.
 */
import { AirlockError } from '../errors.ts';
import { parsePolicy, type ParsedPolicy } from '../policy/schema.ts';

/** The owner email of the dev tokens (`airlock dev`'s banner, `npm run demo`): the sandbox's agent owner has it. */
export const SANDBOX_OWNER_EMAIL = 'dev@example.com';

/** The approval channel of the sandbox. */
export const SANDBOX_CHANNEL = { id: 'C0SANDBOX', name: 'airlock-approvals' } as const;

/** The user group the sandbox adds to every approver group of the policy. */
export const SANDBOX_APPROVER_GROUP = { id: 'S0SANDBOXAPPR', handle: 'sandbox-approvers' } as const;

/** A member of the sandbox, and what the page says about them. */
export interface SandboxUser {
  id: string;
  name: string;
  realName: string;
  email: string;
  /** One line on the page: why Airlock treats this person as it does. */
  role: string;
}

/** Alice approves by id; Bob and Dana through the approver user group; Sam reviews. */
export const SANDBOX_USERS: readonly SandboxUser[] = [
  { id: 'U0SBALICE', name: 'alice', realName: 'Alice Approver', email: 'alice@example.com', role: 'approver (listed in every approver group by id)' },
  { id: 'U0SBBOB', name: 'bob', realName: 'Bob Approver', email: 'bob@example.com', role: `approver (member of @${SANDBOX_APPROVER_GROUP.handle})` },
  { id: 'U0SBDANA', name: 'dana', realName: 'Dana Owner', email: SANDBOX_OWNER_EMAIL, role: `owns the demo agents; in @${SANDBOX_APPROVER_GROUP.handle}, so only separation of duties stops her` },
  { id: 'U0SBOLLY', name: 'olly', realName: 'Olly Outsider', email: 'olly@example.com', role: 'in the channel, in no approver group' },
  { id: 'U0SBSAM', name: 'sam', realName: 'Sam Security', email: 'sam@example.com', role: 'security reviewer (AIRLOCK_SLACK_REVIEWERS): may use /airlock, may not approve' },
];

/** The reviewer the sandbox adds to AIRLOCK_SLACK_REVIEWERS. */
export const SANDBOX_REVIEWER_ID = 'U0SBSAM';

const APPROVER_BY_ID = 'U0SBALICE';
/** Members of the sandbox's approver user group. */
export const SANDBOX_GROUP_MEMBERS = ['U0SBBOB', 'U0SBDANA'] as const;

/**
 * The policy `airlock dev` runs with in the sandbox: `policy` with the
 * sandbox's approvers added to every approver group (Alice by id, the
 * approver user group for Bob and Dana). The rules are unchanged; the shipped
 * file on disk stays empty for production. Validated again, so its version
 * (and every decision's) says it is not the file's policy.
 */
export function sandboxPolicy(policy: ParsedPolicy): ParsedPolicy {
  const file = structuredClone(policy.file);
  for (const group of Object.values(file.approvers)) {
    if (!group.slack_users.includes(APPROVER_BY_ID)) group.slack_users.push(APPROVER_BY_ID);
    if (!group.slack_usergroups.includes(SANDBOX_APPROVER_GROUP.id)) group.slack_usergroups.push(SANDBOX_APPROVER_GROUP.id);
  }
  file.name = `${file.name ?? 'policy'}+sandbox`;
  // JSON is YAML: the same validation as a file on disk.
  const parsed = parsePolicy(JSON.stringify(file));
  if (!parsed.ok) throw new AirlockError('POLICY_INVALID', `The sandbox could not add its approvers to the policy: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return parsed.policy;
}
