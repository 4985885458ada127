/** `airlock token`: a bearer token from the running dev issuer (`airlock dev`). */
import { parseArgs } from 'node:util';
import { runningDev } from '../../app/dev-lock.ts';
import { AirlockError } from '../../errors.ts';
import { readDevIssuerState } from '../../identity/dev-state.ts';
import { stderr } from '../lib/process.ts';

/** Which issuer signed the token, for stderr (stdout holds only the token). */
async function issuerSentence(stateDir: string, agent: string): Promise<string> {
  const [state, dev] = await Promise.all([readDevIssuerState(stateDir), runningDev(stateDir)]);
  const whose = dev ? `the airlock dev running in this folder (pid ${dev.pid}, API ${dev.apiUrl ?? 'starting'})` : `${stateDir}/dev-issuer.json`;
  return `token for agent ${agent} from the dev issuer ${state?.issuer ?? '?'} (${whose})`;
}

/** `airlock token [--agent NAME] [--owner EMAIL] [--groups a,b] [--ttl SECONDS] [--reviewer]`: one JWT on stdout. */
export async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      agent: { type: 'string' },
      owner: { type: 'string' },
      groups: { type: 'string' },
      ttl: { type: 'string' },
      reviewer: { type: 'boolean' },
      'state-dir': { type: 'string' },
    },
    strict: true,
  });
  const { requestDevToken } = await import('../../identity/dev-token.ts');
  const stateDir = values['state-dir'] ?? '.airlock';
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) throw new AirlockError('BAD_REQUEST', '--ttl must be a positive number of seconds.');
  const jwt = await requestDevToken({
    stateDir,
    agent: values.agent ?? 'demo-agent',
    ...(values.owner ? { owner: values.owner } : {}),
    ...(values.groups ? { groups: values.groups.split(',').map((g) => g.trim()).filter(Boolean) } : {}),
    ...(ttl ? { ttlSeconds: ttl } : {}),
    // A reviewer may also search and replay every agent's sessions (GET /v1/sessions).
    ...(values.reviewer ? { scopes: ['airlock:query', 'airlock:review'] } : {}),
  });
  process.stdout.write(`${jwt}\n`);
  stderr(await issuerSentence(stateDir, values.agent ?? 'demo-agent'));
  return 0;
}
