/**
 * The policies the end-to-end suites run under, all made from the shipped
 * policies/default.yaml so a change there reaches every suite: the shipped
 * policy with its approver groups filled in, and a test policy that keeps the
 * shipped catalog of sensitive data but allows every read at once.
 */
import { readFile } from 'node:fs/promises';
import { parsePolicy, type ParsedPolicy } from '../../src/policy/schema.ts';

/** Slack members of one of the policy's approver groups. */
export interface SlackGroup {
  users: string[];
  usergroups?: string[];
}

/** Options of {@link shippedPolicy}. */
export interface ShippedPolicyOptions {
  /** Members of `data-owners` (the shipped review rules name it). */
  dataOwners?: SlackGroup;
  /** Members of `security`. */
  security?: SlackGroup;
  /** Adds a review of tables named EXPIRING that expires after this long (`1s`, `2s`), for expiry tests. */
  expiringAfter?: string;
  /** Row cap of allowed reads (the shipped 10 000), for suites that stream large results. */
  maxRows?: number;
}

function parsed(text: string): ParsedPolicy {
  const result = parsePolicy(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.policy;
}

/** The empty group as the shipped file writes it, filled with `members`. */
function fillGroup(text: string, name: string, members: SlackGroup | undefined): string {
  if (!members) return text;
  return text.replace(
    `${name}: { slack_users: [], slack_usergroups: [] }`,
    `${name}: { slack_users: [${members.users.join(', ')}], slack_usergroups: [${(members.usergroups ?? []).join(', ')}] }`,
  );
}

/** The shipped policy, its approver groups filled in; rules are the file's last section, so an extra rule is appended. */
export async function shippedPolicy(options: ShippedPolicyOptions = {}): Promise<ParsedPolicy> {
  return parsed(await shippedPolicyText(options));
}

/** {@link shippedPolicy} as YAML text, for a test that writes it to a policy file. */
export async function shippedPolicyText(options: ShippedPolicyOptions = {}): Promise<string> {
  let text = await readFile('policies/default.yaml', 'utf8');
  text = fillGroup(fillGroup(text, 'data-owners', options.dataOwners), 'security', options.security);
  if (options.maxRows !== undefined) text = text.replaceAll('max_rows: 10000', `max_rows: ${options.maxRows}`);
  if (options.expiringAfter) {
    text = `${text.trimEnd()}
  - name: quick-expiry
    match: { tables: ["*.*.EXPIRING"] }
    action: review
    approvals: { required: 1, from: [data-owners], expires_after: ${options.expiringAfter} }
`;
  }
  return text;
}

/**
 * A TEST policy: the shipped catalog of sensitive data, but every read allowed
 * at once, so masking and the result caps alone stand between the data and the agent.
 */
export async function readsAllowedPolicy(options: { dataOwners?: SlackGroup; rules?: string[] } = {}): Promise<ParsedPolicy> {
  const text = await readFile('policies/default.yaml', 'utf8');
  const catalog = text.slice(text.indexOf('sensitive:'), text.indexOf('# Who may approve.'));
  // Optional: data-owners who may approve, and more rules (one YAML flow mapping each) after the read rule.
  const owners = options.dataOwners;
  const approvers = owners ? `approvers:\n  data-owners: { slack_users: [${owners.users.join(', ')}], slack_usergroups: [${(owners.usergroups ?? []).join(', ')}] }\n` : '';
  const more = (options.rules ?? []).map((r) => `  - ${r}\n`).join('');
  return parsed(`version: 1\ndefaults: { database: ANALYTICS, schema: PUBLIC }\n${catalog}\n${approvers}rules:\n  - { name: reads, match: { category: read }, action: allow }\n${more}`);
}
