import { type Command } from 'commander';
import { appJobs } from '../app-jobs.js';
import { ConfigError, loadConfig } from '../config.js';
import { type JobTenantContext } from '../context/tenant-job-context.js';
import { type AnyJobDefinition } from '../infra/jobs/index.js';
import { makeLogger } from '../infra/logger.js';
import { startWorker } from '../worker.js';

/**
 * `tenantgraph worker`: runs the job worker alone (no HTTP) until SIGTERM or SIGINT, then drains —
 * stops fetching, lets running jobs finish — and exits 0. A second signal exits at once (1).
 * Run it next to servers started with WORKER=false.
 */
export function registerWorkerCommand(program: Command, definitions: readonly AnyJobDefinition<JobTenantContext>[] = appJobs): void {
  program
    .command('worker')
    .description('Run the job worker alone until SIGTERM (then finish running jobs and stop).')
    .action(async () => {
      let config;
      try {
        config = loadConfig();
      } catch (error) {
        process.stderr.write(`tenantgraph: ${error instanceof ConfigError ? error.message : String(error)}\n`);
        process.exitCode = 1;
        return;
      }
      const logger = makeLogger(config.log.level);
      let worker;
      try {
        worker = await startWorker(config, logger, definitions);
      } catch (error) {
        logger.fatal({ err: error }, error instanceof Error ? error.message : 'worker start-up failed');
        process.exitCode = 1;
        return;
      }
      logger.info({ concurrency: config.jobs.concurrency }, 'tenantgraph worker running; SIGTERM drains and stops it');
      await new Promise<void>((resolve) => {
        let signalled = false;
        const shutdown = (signal: NodeJS.Signals) => {
          if (signalled) {
            logger.warn({ signal }, 'second signal: exiting now');
            process.exit(1);
          }
          signalled = true;
          logger.info({ signal }, 'worker stopping: finishing running jobs');
          void worker.stop().then(() => {
            logger.info('worker stopped');
            resolve();
          });
        };
        process.on('SIGTERM', shutdown);
        process.on('SIGINT', shutdown);
      });
    });
}
