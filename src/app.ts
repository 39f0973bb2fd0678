/**
 * A running tenantgraph server: the runtime (src/runtime.ts), demo data, the schema and the HTTP
 * server. main.ts adds signals and exit codes; tests call this with port 0.
 */
import { type GraphQLSchema } from 'graphql';
import { type Config } from './config.js';
import { type AnyJobDefinition } from './infra/jobs/index.js';
import { type Logger } from './infra/logger.js';
import { openRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
import { makeRateLimits, rateLimitNamespace } from './infra/rate-limits.js';
import { makeSchema } from './schema.js';
import { makeServer, type TenantgraphServer } from './server.js';
import { seedDemoData } from './tenancy/demo-data.js';
import { type TenantContext } from './tenancy/bootstrappers/index.js';
import { identifyRequest, makeIdentifiers } from './tenancy/identification/identify-request.js';
import { normalizeHost } from './context/create-context.js';

export type RunningApp = {
  runtime: Runtime;
  server: TenantgraphServer;
  /** Shortcuts into the runtime. */
  central: Runtime['central'];
  tenancy: Runtime['tenancy'];
  cache: Runtime['cache'];
  /** Signs and checks access tokens (the CLI's `token` command mints with the same keys). */
  tokens: Runtime['tokens'];
  auth: Runtime['auth'];
  jobs: Runtime['jobs'];
  /** Prometheus metrics (/metrics) and the hooks provisioning, migrations and jobs report to. */
  metrics: Runtime['metrics'];
  port: number;
  /** Drains HTTP, then closes everything opened, in reverse order. Safe to call twice. */
  stop(): Promise<void>;
};

export type StartOptions = {
  /** Wraps the executable schema, e.g. with extra middleware in tests. Default: none. */
  wrapSchema?: (schema: GraphQLSchema) => GraphQLSchema;
  /** Sign-in knobs for tests: an injected clock, the throttle's Redis key prefix and per-IP limit. */
  auth?: RuntimeOptions['auth'];
  /** Job definitions to register and run. Default the app's (src/app-jobs.ts). */
  jobs?: readonly AnyJobDefinition<TenantContext>[];
  /** How the domain verification check fetches a token (tests point it at this server). */
  domainProbe?: RuntimeOptions['domainProbe'];
};

export async function startApp(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningApp> {
  // WORKER (default on): `npm start` runs the job worker in the same process.
  const runtime = await openRuntime(config, logger, { auth: options.auth, worker: config.jobs.worker, ...(options.jobs ? { jobs: options.jobs } : {}), domainProbe: options.domainProbe });
  try {
    if (config.tenancy.demoData) {
      const demo = await seedDemoData(runtime.tenancy);
      if (demo.created) {
        logger.info(
          { clinics: demo.clinics },
          'Created demo data (DEMO_DATA=false turns this off). For Sandbox: `npx tenantgraph token --tenant demo-clinic-a --role admin`, then send the header Authorization: Bearer <token>',
        );
      }
    }
    const schema = options.wrapSchema ? options.wrapSchema(await makeSchema()) : await makeSchema();
    const identification = {
      directory: runtime.tenancy.directory,
      identifiers: makeIdentifiers(config.tenancy),
      tokens: runtime.tokens,
      credentials: runtime.auth.credentials,
    };
    const server = await makeServer({
      config,
      logger,
      schema,
      context: { ...identification, scopes: runtime.scopes, logger, rateLimits: makeRateLimits(config.limits.rate, runtime.redis, rateLimitNamespace(config)) },
      readiness: runtime.readiness,
      metrics: runtime.metrics,
      domainVerification: (host, token) => runtime.services.administration.domains.servesToken(normalizeHost(host), token),
      homepage: {
        central: runtime.central.prisma,
        identifyHost: async (host) =>
          (await identifyRequest({ host: normalizeHost(host), authorization: undefined, tenantHeader: undefined }, identification)).scope,
      },
    });
    runtime.onClose('http server', () => server.close());
    const port = await server.listen(config.http.port, config.http.host);
    return {
      runtime,
      server,
      central: runtime.central,
      tenancy: runtime.tenancy,
      cache: runtime.cache,
      tokens: runtime.tokens,
      auth: runtime.auth,
      jobs: runtime.jobs,
      metrics: runtime.metrics,
      port,
      stop: () => runtime.close(),
    };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
