/**
 * The slice of `oidc-provider` 9 that the dev issuer uses.
 *
 * The package ships no types and `@types/oidc-provider` is not installed; this
 * ambient declaration covers only what the dev issuer (`dev-provider.ts`) touches. If the real
 * types are ever added, delete this file.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The Koa context oidc-provider hands to configuration hooks. */
  export interface KoaContextWithOIDC {
    oidc: {
      /** The parsed request body (urlencoded or JSON), before parameter filtering. */
      readonly body?: Record<string, unknown>;
      readonly client?: { readonly clientId: string };
    };
    type?: string;
    body?: unknown;
    status?: number;
  }

  /** The provider configuration; deliberately loose, it is validated at run time by oidc-provider. */
  export type Configuration = Record<string, unknown>;

  /** An oidc-provider instance (a Koa application). */
  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    /** Node request listener. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    // oidc-provider emits events with varying argument lists (ctx, error, ...).
    on(event: string, listener: (...args: any[]) => void): this;
  }

  /** OAuth error classes; thrown from hooks they become JSON error responses. */
  export const errors: {
    InvalidTarget: new (description?: string) => Error;
    InvalidRequest: new (description?: string) => Error;
  };

  export default Provider;
}
