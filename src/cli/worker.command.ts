import { type Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { type AnyJobDefinition } from '../infra/jobs/index.js';
import { makeLogger } from '../infra/logger.js';
import { type TenantContext } from '../tenancy/bootstrappers/index.js';
import { startWorker } from '../worker.js';
import { EXIT } from './cli-runtime.js';

/**
 * `tenantgraph worker`: runs the job worker alone (no HTTP) until SIGTERM or SIGINT, then drains —
 * stops fetching, lets running jobs finish — and exits 0. A second signal exits at once (1).
 * Run it next to servers started with WORKER=false.
 */
export function registerWorkerCommand(program: Command, definitions?: readonly AnyJobDefinition<TenantContext>[]): void {
  program
    .command('worker')
    .description('Run the job worker alone until SIGTERM (then finish running jobs and stop).')
    .action(async () => {
      let config;
      try {
        config = loadConfig();
      } catch (error) {
        process.stderr.write(`tenantgraph: ${error instanceof ConfigError ? error.message : String(error)}\n`);
        process.exitCode = EXIT.failed;
        return;
      }
      const logger = makeLogger(config.log.level);
      let worker;
      try {
        worker = await startWorker(config, logger, definitions);
      } catch (error) {
        logger.fatal({ err: error }, error instanceof Error ? error.message : 'worker start-up failed');
        process.exitCode = EXIT.failed;
        return;
      }
      logger.info({ concurrency: config.jobs.concurrency }, 'tenantgraph worker running; SIGTERM drains and stops it');
      await new Promise<void>((resolve) => {
        let signalled = false;
        const shutdown = (signal: NodeJS.Signals) => {
          if (signalled) {
            logger.warn({ signal }, 'second signal: exiting now');
            process.exit(EXIT.failed);
          }
          signalled = true;
          logger.info({ signal }, 'worker stopping: finishing running jobs');
          void worker.close().then(() => {
            logger.info('worker stopped');
            resolve();
          });
        };
        process.on('SIGTERM', shutdown);
        process.on('SIGINT', shutdown);
      });
    });
}
