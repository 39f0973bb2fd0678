/**
 * Fleet migrations inside the server process, for the `migrateTenants` mutation: the run starts in
 * the background of this process (not a durable job yet: src/infra/jobs had not landed when this was
 * written) and is recorded in the central database as it goes, so `migrationRun(id)` reports its
 * progress from any process. On shutdown no new tenant is started; tenants in flight finish, and
 * the rest stay PENDING for `tenantgraph tenants:migrate --resume`.
 */
import { mapLimit } from '../../infra/map-limit.js';
import { type Tenancy } from '../tenancy.js';
import { startFleetMigration, type FleetRunner } from './fleet-migration.js';
import { selectFleetTenants, type FleetLevel } from './fleet-targets.js';
import { getRun, listRunItems, type MigrationRunInfo, type MigrationRunItemInfo } from './migration-runs.js';

export type FleetMigrationService = {
  /** Starts a run (FleetBusyError when one runs, FleetSelectionError for unknown slugs); returns it as recorded. */
  start(request: { tenantSlugs?: readonly string[]; level?: FleetLevel; parallel: number; requestedBy: string }): Promise<MigrationRunInfo>;
  run(id: string): Promise<MigrationRunInfo | undefined>;
  items(id: string, first: number, after: number | undefined): Promise<MigrationRunItemInfo[]>;
  /** Stops starting tenants and waits for the ones in flight. */
  close(): Promise<void>;
};

export function makeFleetMigrationService(tenancy: Tenancy): FleetMigrationService {
  let closing = false;
  const inFlight = new Set<Promise<unknown>>();
  return {
    async start(request) {
      if (closing) throw new Error('the server is shutting down');
      const tenants = await selectFleetTenants(tenancy.central, { slugs: request.tenantSlugs, level: request.level });
      const runner: FleetRunner = (items, work) =>
        mapLimit(items, request.parallel, async (item) => {
          if (closing) return;
          // A tenant's failure is recorded on its item; the others go on.
          await work(item).catch(() => {});
        });
      const started = await startFleetMigration(tenancy, { tenants, level: request.level, parallel: request.parallel, requestedBy: request.requestedBy }, runner);
      const finished = started.finished
        .catch((error: unknown) => tenancy.logger.error({ err: error, runId: started.runId }, 'fleet migration run failed'))
        .finally(() => inFlight.delete(finished));
      inFlight.add(finished);
      return (await getRun(tenancy.central, started.runId))!;
    },
    run: (id) => getRun(tenancy.central, id),
    items: (id, first, after) => listRunItems(tenancy.central, id, first, after),
    async close() {
      closing = true;
      await Promise.all(inFlight);
    },
  };
}
