/**
 * A worker-only process (`tenantgraph worker`): the runtime with the job worker, no HTTP.
 * Central migrations are the server's (or `tenantgraph migrate`'s) business, not the worker's.
 */
import { type Config } from './config.js';
import { type AnyJobDefinition } from './infra/jobs/index.js';
import { type Logger } from './infra/logger.js';
import { openRuntime, type Runtime } from './runtime.js';
import { type TenantContext } from './tenancy/bootstrappers/index.js';

/** `stop()` (the runtime's close) stops fetching, lets running jobs finish, then closes everything. */
export function startWorker(config: Config, logger: Logger, definitions?: readonly AnyJobDefinition<TenantContext>[]): Promise<Runtime> {
  return openRuntime(config, logger, { migrate: false, announceRedis: false, worker: true, ...(definitions ? { jobs: definitions } : {}) });
}
