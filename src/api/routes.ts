/**
 * The routes a server serves, as data: every route any part registers (the
 * API's own, the Slack receiver, other doors) is recorded as it is added, so
 * checks that must cover every route — the hostile-input suite, the docs —
 * enumerate them from the running server instead of a list kept by hand.
 */
import type { FastifyInstance } from 'fastify';

/** One route: its method and URL pattern (`/v1/queries/:id`). */
export interface RouteEntry {
  method: string;
  url: string;
}

const registry = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Start recording the routes of `app`; call before any route or plugin is registered. */
export function trackRoutes(app: FastifyInstance): void {
  const routes: RouteEntry[] = [];
  registry.set(app, routes);
  // onRoute hooks on the root are inherited by every encapsulated plugin, so mounted doors are seen too.
  app.addHook('onRoute', (options) => {
    const methods = Array.isArray(options.method) ? options.method : [options.method];
    for (const method of methods) {
      // fastify adds HEAD for every GET itself; it is served the same way.
      if (!routes.some((r) => r.method === method && r.url === options.url)) routes.push({ method, url: options.url });
    }
  });
}

/** The routes `app` serves, in registration order (empty when it was not tracked). */
export function routesOf(app: FastifyInstance): readonly RouteEntry[] {
  return registry.get(app) ?? [];
}
