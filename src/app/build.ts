/**
 * The composition root: the core (adapters + services, `core.ts`), then the
 * chosen roles on it (`roles/`), then the one HTTP server (`http.ts`).
 *
 * `airlock dev` and `airlock serve --roles …` only choose roles and inputs;
 * everything is wired here, once. No state lives only in process memory, so
 * any number of replicas of any role can share one Redis.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/env.ts';
import { buildCore, type Core, type CoreOptions } from './core.ts';
import { buildHttp, type HttpParts } from './http.ts';
import { apiRole, mcpDoor, wireDoor } from './roles/api.ts';
import type { Role, Running } from './roles/role.ts';
import { startCardOutbox, startSlackReceiver } from './roles/slack.ts';
import type { LocalRunner } from '../queries/ports.ts';
import type { LaneWorker } from '../queue/execute-lane.ts';
import { startWorkerRole, type WorkerRoleOptions } from './roles/worker.ts';

/** The roles to run (in {@link CoreOptions}) and what replaces the adapters built from the config. */
export type BuildOptions = CoreOptions & WorkerRoleOptions & Pick<HttpParts, 'authenticator' | 'allowInsecureIssuer'> & {
  /** More doors on the HTTP server, after the roles' own (`airlock dev`'s Slack sandbox). */
  mounts?: HttpParts['mounts'];
};

/** A built process: its HTTP server, its execute worker (worker role), and how it listens and stops. */
export interface AirlockApp {
  api?: FastifyInstance;
  worker?: LaneWorker;
  /** Re-read the policy file and (worker role) the Snowflake key file now, as SIGHUP asks; a bad file is logged and the old one kept. */
  reload(): Promise<void>;
  /** Start listening (api role) on AIRLOCK_HOST:AIRLOCK_PORT; returns the base URL. */
  listen(): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Which parts each role needs, as data: the card outbox runs where Slack work
 * runs (worker or slack role); Slack's requests are received by the slack role,
 * and by the api role when it has the signing secret or an app token.
 */
function partsFor(roles: readonly Role[], core: Core) {
  const has = (role: Role) => roles.includes(role);
  const slack = core.slack;
  return {
    worker: has('worker'),
    outbox: has('worker') || has('slack'),
    receiver: Boolean(slack && (has('slack') || (has('api') && (slack.signingSecret || slack.appToken)))),
    api: has('api'),
  };
}

/** Build the core and start the chosen roles on it. */
export async function buildApp(config: Config, options: BuildOptions): Promise<AirlockApp> {
  const { logger } = options;
  const core = await buildCore(config, options);
  const wants = partsFor(options.roles, core);
  const running: Running[] = [];
  const stopRoles = async () => {
    for (const role of running) await role.stop().catch((err: unknown) => logger.warn({ err }, 'error while closing'));
  };
  let api: FastifyInstance;
  let worker: LaneWorker | undefined;
  let local: LocalRunner | undefined;
  try {
    if (wants.worker) {
      const role = await startWorkerRole(core, options);
      worker = role.worker;
      local = role.local;
      running.push(role);
    }
    const outbox = wants.outbox ? startCardOutbox(core) : undefined;
    if (outbox) running.push(outbox);
    const receiver = wants.receiver ? startSlackReceiver(core) : undefined;
    if (receiver) running.push(receiver);
    // With the worker role here too, accepted queries run in this process's free worker slots.
    const apiServices = wants.api ? apiRole(core, local) : undefined;
    api = buildHttp(core, {
      ...(apiServices ? { api: apiServices } : {}),
      mounts: [
        ...(receiver?.mount ? [receiver.mount] : []),
        ...(apiServices ? [mcpDoor(core, apiServices)] : []),
        ...(apiServices && config.AIRLOCK_SNOWFLAKE_WIRE === 'on' ? [wireDoor(core, apiServices)] : []),
        ...(options.mounts ?? []),
      ],
      readiness: Object.assign({}, ...running.map((role) => role.readiness ?? {})),
      ...(options.authenticator ? { authenticator: options.authenticator } : {}),
      ...(options.allowInsecureIssuer !== undefined ? { allowInsecureIssuer: options.allowInsecureIssuer } : {}),
    });
  } catch (err) {
    await stopRoles();
    await core.close();
    throw err;
  }
  const server = api;
  return {
    api: server,
    ...(worker ? { worker } : {}),
    async reload() {
      for (const reload of core.reloads) await reload();
    },
    async listen() {
      await server.listen({ host: config.AIRLOCK_HOST, port: config.AIRLOCK_PORT });
      const address = server.server.address();
      const port = typeof address === 'object' && address ? address.port : config.AIRLOCK_PORT;
      return `http://${config.AIRLOCK_HOST}:${port}`;
    },
    async close() {
      await server.close().catch((err: unknown) => logger.warn({ err }, 'error while closing'));
      await stopRoles();
      await core.close();
    },
  };
}
