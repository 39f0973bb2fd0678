import { type Logger } from '../../infra/logger.js';
import { chainTarget } from '../identification/identification-types.js';
import { type Bootstrapper } from './bootstrapper.js';

/**
 * A logger bound to the scope: its id (as `requestId`, for jobs and commands too) and, inside a tenant, the tenant's id, slug and level.
 * Made on first use only: most requests log nothing, and a pino child costs more than the rest
 * of a request's context.
 */
export function loggerBootstrapper(base: Logger): Bootstrapper<Logger> {
  return {
    enter({ id, scope, principal }) {
      const actor = principal.kind === 'system' ? { actor: principal.actor } : {};
      if (scope.level === 'CENTRAL') return base.child({ requestId: id, ...actor });
      const target = chainTarget(scope);
      return base.child({ requestId: id, tenantId: target.id, tenant: target.slug, level: scope.level, ...actor });
    },
  };
}
