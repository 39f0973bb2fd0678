/**
 * Bootstrappers (the stancl/tenancy idea, done the Node way): one per tenant-scoped resource.
 * Entering a scope asks each bootstrapper for a handle bound to that scope's tenant; leaving it
 * gives every handle back. Nothing shared is mutated: a process serves many tenants at once, so
 * each scope gets its own handles instead of a "current tenant" switched on a shared client.
 */
import { type IdentifiedScope, type Principal } from '../identification/identification-types.js';

/** What a scope is: who acts, in which tenant (or centrally), under which id. */
export type ScopeInfo = {
  /** Request id, job id, or command run id: bound into logs. */
  readonly id: string;
  readonly scope: IdentifiedScope;
  readonly principal: Principal;
  /** Who is on the other end, for the audit log and sign-in throttling; default: nobody (jobs, CLI). */
  readonly client?: ClientInfo;
};

/** The request's id, client IP and user agent (null outside HTTP). */
export type ClientInfo = { requestId: string | null; ip: string | null; userAgent: string | null };

export interface Bootstrapper<H> {
  /** The resource's handle for one scope. Called lazily, at most once per scope; keep it cheap. */
  enter(info: ScopeInfo): H;
  /** Gives back what `enter` took. Called once when the scope ends, whatever happened in it. */
  release?(handle: H): void | Promise<void>;
}
