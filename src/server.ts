/**
 * makeServer(): Apollo Server 5 on Node's http, plus the plain HTTP routes (health).
 *
 * We drive Apollo through `executeHTTPGraphQLRequest` ourselves instead of an integration
 * package: one small handler, our own body limit and JSON errors, no framework on the hot path.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type GraphQLRequestListener, type HTTPGraphQLResponse } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { type GraphQLSchema } from 'graphql';
import { impersonationAuditPlugin } from './auth/impersonation-audit-plugin.js';
import { type Config } from './config.js';
import { createRequestContext, type ContextDependencies } from './context/create-context.js';
import { abandonRequest } from './context/request-cancellation.js';
import { currentRequestId, type Readiness, type RequestContext } from './context/request-context.js';
import { currentScopeState, runInScopeState, type EnteredScope, type ScopeState } from './tenancy/bootstrappers/index.js';
import { ErrorCode, httpStatusOf, makeFormatError, retryableErrorsPlugin } from './errors/index.js';
import { jitGateway } from './graphql-execution/jit-gateway.js';
import { armorProtection } from './graphql-limits/armor.js';
import { withLimitErrors } from './graphql-limits/limit-errors.js';
import { nestingLimitFor, scanQueryText } from './graphql-limits/nesting-guard.js';
import { operationLimitsPlugin } from './graphql-limits/operation-limits-plugin.js';
import { queryTooComplex } from './graphql-limits/query-too-complex.js';
import { InFlightRequests, type Interruption } from './infra/in-flight-requests.js';
import { type Logger } from './infra/logger.js';
import { clientIp } from './infra/rate-limits.js';
import { storableInputPlugin } from './input/storable-input.plugin.js';
import { serveHomepage, type HomepageDependencies } from './resolvers/homepage/homepage.page.js';
import { makeCors } from './http/cors.js';
import { requestTarget, searchParam, type RequestTarget } from './http/request-target.js';
import { GRAPHIQL_PATH, makeGraphiqlRoutes } from './http/graphiql.js';
import { logAccess, type RequestSummary } from './observability/access-log.js';
import { type AppMetrics, type RequestOutcome } from './observability/metrics.js';
import { chainTarget } from './tenancy/identification/identification-types.js';
import { acceptWeight, BodyNotUtf8Error, BodyTooLargeError, isUtf8Label, parseMediaType, readBody, RequestAbortedError } from './infra/http-body.js';

export type MakeServerOptions = {
  config: Config;
  logger: Logger;
  schema: GraphQLSchema;
  context: ContextDependencies;
  /** Answers /health/ready. */
  readiness: () => Promise<Readiness>;
  /** Answers GET / (tenant homepages, the central page). */
  homepage: HomepageDependencies;
  /** Request metrics and /metrics; without it /metrics answers 404. */
  metrics?: AppMetrics;
  /** GET /.well-known/tenantgraph-verification/<token>: whether this host's domain row holds the token. */
  domainVerification?: (host: string | undefined, token: string) => Promise<boolean>;
};

export type TenantgraphServer = {
  httpServer: http.Server;
  apollo: ApolloServer<RequestContext>;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number>;
  /**
   * Stops accepting, lets in-flight requests finish for up to SHUTDOWN_TIMEOUT_MS, answers the
   * rest with 503 SHUTTING_DOWN (cancelling their statements), closes the sockets, stops Apollo.
   */
  close(): Promise<void>;
};

const GRAPHQL_PATH = '/graphql';
const METRICS_PATH = '/metrics';
const VERIFICATION_PATH = '/.well-known/tenantgraph-verification/';
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export async function makeServer({ config, logger, schema, context: contextDeps, readiness: checkReadiness, homepage, metrics, domainVerification }: MakeServerOptions): Promise<TenantgraphServer> {
  const formatError = withLimitErrors(makeFormatError(logger, currentRequestId));
  const cors = makeCors(config.cors.origins);
  const graphiql = config.explorer.graphiql ? makeGraphiqlRoutes(GRAPHQL_PATH) : undefined;
  const routes = [GRAPHQL_PATH, '/health/live', '/health/ready', ...(metrics ? [METRICS_PATH] : []), ...(graphiql ? [GRAPHIQL_PATH] : [])];
  const httpServer = http.createServer();
  httpServer.keepAliveTimeout = 65_000; // above common load balancer idle timeouts
  const limits = config.limits;
  const armor = armorProtection(limits);
  const nestingLimit = nestingLimitFor(limits.user.depth);
  const inFlight = new InFlightRequests();
  let shuttingDown = false;
  const apollo = new ApolloServer<RequestContext>({
    // GRAPHQL_JIT: the same schema, served through Apollo's executor hook (see jit-gateway.ts).
    ...(config.graphql.jit ? { gateway: jitGateway(schema, { compileAfter: config.graphql.jitCompileAfter }) } : { schema }),
    introspection: config.graphql.introspection,
    csrfPrevention: true,
    // main.ts owns signals: Apollo's own handler would re-raise the signal and kill the drain.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    // No "Did you mean ...?" in errors when introspection is off: suggestions would leak the schema.
    hideSchemaDetailsFromClientErrors: !config.graphql.introspection,
    // Every error a client sees passes here: its code is kept for the access log and metrics.
    formatError: (formatted, error) => {
      const result = formatError(formatted, error);
      recordErrorCode(currentScopeState(), result.extensions?.code);
      return result;
    },
    // graphql-js stops parsing at this many tokens: a huge document is refused before validation.
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: armor.validationRules,
    plugins: [
      // Empty with our armor settings; kept so enabling an armor plugin needs no change here.
      // (armor's types point at Apollo's CommonJS declarations, hence the cast.)
      ...(armor.plugins as unknown as ApolloServerPlugin<RequestContext>[]),
      operationLimitsPlugin(limits),
      operationRecorder,
      config.graphql.sandbox
        ? withGraphiqlLink(ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }), graphiql !== undefined)
        : ApolloServerPluginLandingPageDisabled(),
      // We set no cache hints; Apollo's default cache-control plugin would still wrap every field
      // resolver (willResolveField) to compute a policy nobody reads.
      ApolloServerPluginCacheControlDisabled(),
      retryableErrorsPlugin(),
      storableInputPlugin(),
      impersonationAuditPlugin,
    ],
    logger,
  });
  await apollo.start();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const requestId = pickRequestId(req);
    res.setHeader('x-request-id', requestId);
    const url = requestTarget(req.url);
    const state: ScopeState = { id: requestId, context: undefined };
    try {
      if (url.pathname === GRAPHQL_PATH) {
        if (!cors.handle(req, res)) await handleGraphQL(req, res, url, state);
      } else if (url.pathname === METRICS_PATH && metrics && isRead(req)) {
        await serveMetrics(req, res, metrics);
      } else if (graphiql && isRead(req) && url.pathname.startsWith(GRAPHIQL_PATH) && (await graphiql.handle(url.pathname, res, req.method === 'HEAD'))) {
        // served
      } else if (url.pathname === '/health/live' && isRead(req)) {
        sendJson(res, 200, { status: 'ok' });
      } else if (url.pathname === '/health/ready' && isRead(req)) {
        if (shuttingDown) return sendJson(res, 503, { status: 'not_ready', reason: 'shutting down' });
        const readiness = await checkReadiness();
        // Degraded (Redis down) is still 200: the server serves from the database meanwhile.
        if (!readiness.ready) sendJson(res, 503, { status: 'not_ready', reason: readiness.reason });
        else sendJson(res, 200, readiness.degraded === undefined ? { status: 'ready' } : { status: 'degraded', reason: readiness.degraded });
      } else if (domainVerification && isRead(req) && url.pathname.startsWith(VERIFICATION_PATH)) {
        // A tenant's domain pointing at us verifies itself: the token only on its own host.
        const token = url.pathname.slice(VERIFICATION_PATH.length);
        if (await domainVerification(req.headers.host, token)) {
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : token);
        } else sendJson(res, 404, { error: 'Not found' });
      } else if (url.pathname === '/' && isRead(req)) {
        await serveHomepage(homepage, req, res);
      } else {
        sendJson(res, 404, { error: 'Not found', routes });
      }
    } catch (error) {
      logger.error({ err: error, requestId }, 'unhandled error in HTTP handler');
      if (!res.headersSent) sendGraphQLError(req, res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error', state);
      else res.destroy();
    } finally {
      finish(req, res, url.pathname, state, started);
    }
  };

  /** Once per request, after the response: the access line and the request metrics. */
  function finish(req: IncomingMessage, res: ServerResponse, pathname: string, state: ScopeState, started: number) {
    const isGraphQL = pathname === GRAPHQL_PATH && req.method !== 'OPTIONS';
    const quiet = !isGraphQL && (pathname.startsWith('/health/') || pathname === METRICS_PATH || pathname.startsWith(`${GRAPHIQL_PATH}/assets/`));
    if (!metrics && !logger.isLevelEnabled(quiet ? 'debug' : 'info')) return;
    const durationMs = performance.now() - started;
    const context = state.context;
    const target = context && context.scope.level !== 'CENTRAL' ? chainTarget(context.scope) : undefined;
    const errorCodes = state.errorCodes ?? [];
    const summary: RequestSummary = {
      requestId: state.id,
      method: req.method ?? 'GET',
      path: pathname,
      status: res.statusCode,
      durationMs,
      aborted: !res.writableEnded,
      operationName: state.operation?.name,
      operationType: state.operation?.type,
      tenantId: target?.id,
      tenant: target?.slug,
      tenantLevel: context?.scope.level,
      principal: context ? (context.principal.kind === 'user' && context.principal.isSystemAdmin ? 'system_admin' : context.principal.kind) : undefined,
      identifiedBy: state.identifiedBy,
      errorCodes,
    };
    logAccess(logger, summary, quiet);
    if (metrics && isGraphQL) {
      metrics.observeRequest({
        operationType: summary.operationType ?? 'none',
        level: summary.tenantLevel ?? 'none',
        outcome: outcomeOf(summary.status, errorCodes),
        durationSeconds: durationMs / 1000,
        identifiedBy: summary.identifiedBy ?? 'failed',
        tenantSlug: summary.tenant,
        errorCodes,
      });
    }
  }

  async function serveMetrics(req: IncomingMessage, res: ServerResponse, appMetrics: AppMetrics) {
    if (config.metrics.token !== undefined && !bearerMatches(req.headers.authorization, config.metrics.token)) {
      res.setHeader('www-authenticate', 'Bearer realm="metrics"');
      return sendJson(res, 401, { error: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' });
    }
    const body = await appMetrics.render();
    res.statusCode = 200;
    res.setHeader('content-type', appMetrics.contentType);
    res.setHeader('cache-control', 'no-store');
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: RequestTarget, state: ScopeState) {
    const requestId = state.id;
    if (shuttingDown) {
      req.resume();
      return sendGraphQLError(req, res, 503, ErrorCode.SHUTTING_DOWN, 'The server is shutting down; retry', state, {}, { 'retry-after': '1', connection: 'close' });
    }
    const method = req.method?.toUpperCase() ?? 'GET';
    // Refused before Apollo sees them, so no request context (and no database lease) is made.
    if (method !== 'GET' && method !== 'POST') {
      req.resume();
      return sendGraphQLError(req, res, 405, ErrorCode.BAD_REQUEST, `${GRAPHQL_PATH} accepts GET and POST requests only`, state, {}, { allow: 'GET, POST' });
    }
    const ip = clientIp(req, limits.trustProxy);
    // An address known to be over its anonymous limit: refused before its body is read or parsed.
    const retryAfter = req.headers.authorization === undefined ? contextDeps.rateLimits.anonymousRetryAfter(ip) : undefined;
    if (retryAfter !== undefined) {
      req.resume();
      return sendGraphQLError(req, res, 429, ErrorCode.RATE_LIMITED, `Too many requests; retry in ${retryAfter} s`, state, { retryAfterSeconds: retryAfter }, { 'retry-after': String(retryAfter) });
    }
    let body: unknown;
    if (method === 'POST') {
      const refusal = refusePostContent(req);
      if (refusal) {
        req.resume();
        return sendGraphQLError(req, res, 415, ErrorCode.BAD_REQUEST, refusal.message, state, {}, refusal.headers);
      }
      // A caller without a token gets a smaller body: what it may do (sign in, public reads) is
      // small, and a megabyte of junk stops at the door instead of being decoded, parsed and hashed.
      const anonymous = req.headers.authorization === undefined;
      const bodyLimit = anonymous ? config.http.anonymousBodyLimitBytes : config.http.bodyLimitBytes;
      let raw: string;
      try {
        raw = await readBody(req, bodyLimit);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          const whose = anonymous && bodyLimit < config.http.bodyLimitBytes ? ' (the limit for requests without an Authorization header)' : '';
          return sendGraphQLError(req, res, 413, ErrorCode.PAYLOAD_TOO_LARGE, `Request body is larger than ${bodyLimit} bytes${whose}`, state, { limitBytes: bodyLimit });
        }
        if (error instanceof BodyNotUtf8Error) {
          return sendGraphQLError(req, res, 400, ErrorCode.BAD_REQUEST, 'Request body is not valid UTF-8', state);
        }
        if (error instanceof RequestAbortedError) {
          logger.debug({ requestId }, 'client went away before sending the whole request body');
          return res.destroy();
        }
        throw error;
      }
      try {
        // Empty: Apollo answers "POST body missing" with 400.
        body = raw.length === 0 ? undefined : JSON.parse(raw);
      } catch {
        return sendGraphQLError(req, res, 400, ErrorCode.BAD_REQUEST, 'Request body is not valid JSON', state);
      }
    }
    // graphql-js parses recursively: refuse deep bracket nesting before it can overflow the stack,
    // and a document over maxTokens (which the parser would refuse) before Apollo hashes and parses it.
    const query = method === 'POST' ? (body as { query?: unknown } | undefined)?.query : searchParam(url, 'query');
    if (typeof query === 'string') {
      const scan = scanQueryText(query, nestingLimit, limits.maxTokens);
      // Counting stops at the limit: the true nesting, or token count, is not known.
      const refusal =
        scan.nesting > nestingLimit ? queryTooComplex('nesting', nestingLimit, null) : scan.tooManyTokens ? queryTooComplex('tokens', limits.maxTokens, null) : undefined;
      if (refusal) return sendGraphQLError(req, res, 400, ErrorCode.QUERY_TOO_COMPLEX, refusal.message, state, { ...refusal.extensions, http: undefined });
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let entered: EnteredScope | undefined;
    const flight = inFlight.start(limits.timeoutMs);
    const execution = runInScopeState(state, () =>
      apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method, headers, search: url.search, body },
        context: async () => {
          entered = await createRequestContext(contextDeps, { requestId, headers: req.headers, clientIp: ip, state });
          state.context = entered;
          return entered;
        },
      }),
    );
    // The request's handles (database leases first) go back once its execution is over (after
    // an interruption too: its statements were cancelled, and it ends soon after).
    const releaseScope = () => entered?.release();
    void execution.then(releaseScope, releaseScope);
    try {
      const outcome = await Promise.race([execution, flight.interrupted]);
      if (isInterruption(outcome)) {
        abandonRequest(state, logger);
        logger.warn({ requestId, code: outcome.code }, 'request interrupted before it finished; its statements were cancelled');
        const retry: Record<string, string> = outcome.retryAfterSeconds === undefined ? {} : { 'retry-after': String(outcome.retryAfterSeconds) };
        sendGraphQLError(req, res, httpStatusOf[outcome.code], outcome.code, outcome.message, state, {}, retry);
      } else {
        await writeResponse(res, outcome);
      }
    } finally {
      flight.done();
    }
  }

  httpServer.on('request', (req, res) => void handle(req, res));

  return {
    httpServer,
    apollo,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          httpServer.off('listening', onListening);
          reject(
            error.code === 'EADDRINUSE'
              ? new Error(`Port ${port} is already in use. Stop the other process or set PORT to a free port.`, { cause: error })
              : error,
          );
        };
        const onListening = () => {
          httpServer.off('error', onError);
          resolve((httpServer.address() as AddressInfo).port);
        };
        httpServer.once('error', onError);
        httpServer.once('listening', onListening);
        httpServer.listen(port, host);
      }),
    close: async () => {
      if (!shuttingDown) {
        shuttingDown = true;
        const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        if (!(await inFlight.waitUntilIdle(config.http.shutdownTimeoutMs))) {
          logger.warn({ requests: inFlight.size }, 'shutdown: answering requests still running with SHUTTING_DOWN');
          inFlight.interruptAll({ code: ErrorCode.SHUTTING_DOWN, message: 'The server is shutting down; retry', retryAfterSeconds: 1 });
          await inFlight.waitUntilIdle(ANSWER_WAIT_MS);
        }
        // Every request is answered: close keep-alive sockets rather than wait for clients to.
        httpServer.closeAllConnections();
        await closed;
      }
      await apollo.stop();
    },
  };
}

/** How long shutdown waits for the SHUTTING_DOWN answers to be written. */
const ANSWER_WAIT_MS = 2_000;

function isInterruption(outcome: HTTPGraphQLResponse | Interruption): outcome is Interruption {
  return 'code' in outcome;
}

async function writeResponse(res: ServerResponse, response: HTTPGraphQLResponse) {
  res.statusCode = response.status ?? 200;
  for (const [key, value] of response.headers) {
    // CORS may have set `Vary: Origin` already; Apollo's Vary (Accept) adds to it.
    const earlier = key === 'vary' ? res.getHeader('vary') : undefined;
    res.setHeader(key, earlier ? `${String(earlier)}, ${value}` : value);
  }
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

function pickRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function isRead(req: IncomingMessage) {
  return req.method === 'GET' || req.method === 'HEAD';
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

/**
 * POST bodies must be uncompressed UTF-8 `application/json` (GraphQL over HTTP's request type).
 * Anything else is refused with 415 before reading it, rather than guessed at: a body in another
 * charset would be misread, a compressed one would be garbage, and `text/plain`, form and
 * multipart bodies are what a cross-site form can send (they never reach Apollo's CSRF check).
 */
function refusePostContent(req: IncomingMessage): { message: string; headers: Record<string, string> } | undefined {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    return { message: `Content-Encoding "${encoding}" is not supported; send the body uncompressed`, headers: { 'accept-encoding': 'identity' } };
  }
  const given = req.headers['content-type'];
  const type = parseMediaType(given);
  if (type?.essence !== 'application/json') {
    const what = given === undefined ? 'A POST request without Content-Type' : `Content-Type "${type?.essence ?? given.slice(0, 100)}"`;
    return { message: `${what} is not supported; send the operation as application/json`, headers: { accept: 'application/json' } };
  }
  const charset = type.parameters.get('charset');
  if (charset !== undefined && !isUtf8Label(charset)) {
    return { message: `charset "${charset}" is not supported; send the body as UTF-8`, headers: { accept: 'application/json; charset=utf-8' } };
  }
  return undefined;
}

const JSON_MEDIA_TYPE = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_MEDIA_TYPE = 'application/graphql-response+json; charset=utf-8';

/**
 * Our own errors (before Apollo runs) in the GraphQL response format, with the media type the
 * client prefers of the two GraphQL over HTTP defines; application/json on a tie, when there is
 * no Accept, or when neither is acceptable (as Apollo does for its errors).
 */
function sendGraphQLError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  state: ScopeState,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  recordErrorCode(state, code);
  const accept = req.headers.accept;
  const prefersGraphQLResponse = accept !== undefined && acceptWeight(accept, 'application/graphql-response+json') > acceptWeight(accept, 'application/json');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = status;
  res.setHeader('content-type', prefersGraphQLResponse ? GRAPHQL_RESPONSE_MEDIA_TYPE : JSON_MEDIA_TYPE);
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify({ errors: [{ message, extensions: { ...extensions, requestId: state.id, code } }] }));
}

function recordErrorCode(state: ScopeState | undefined, code: unknown) {
  if (!state || typeof code !== 'string') return;
  (state.errorCodes ??= []).push(code);
}

/**
 * Keeps the operation's name and type for the access line and metrics. Apollo resolves the
 * operation anyway; this reads its result (no extra parse). One hooks object for every request.
 */
const operationHooks: GraphQLRequestListener<RequestContext> = {
  didResolveOperation: async (requestContext) => {
    const state = currentScopeState();
    if (state && requestContext.operation) state.operation = { name: requestContext.operationName ?? undefined, type: requestContext.operation.operation };
  },
};
const operationRecorder: ApolloServerPlugin<RequestContext> = { requestDidStart: async () => operationHooks };

function outcomeOf(status: number, errorCodes: readonly string[]): RequestOutcome {
  if (status >= 500 || errorCodes.includes(ErrorCode.INTERNAL_SERVER_ERROR)) return 'server_error';
  return status >= 400 || errorCodes.length > 0 ? 'client_error' : 'success';
}

/** Constant-time comparison of `Bearer <token>` with the expected token. */
function bearerMatches(authorization: string | undefined, expected: string): boolean {
  const match = authorization === undefined ? null : /^bearer[ \t]+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * Apollo's landing page plus a link to /graphiql, which works where Sandbox's CDN cannot be
 * reached. The page itself is Apollo's; only a small fixed link is added before </body>.
 */
function withGraphiqlLink(plugin: ApolloServerPlugin<RequestContext>, enabled: boolean): ApolloServerPlugin<RequestContext> {
  if (!enabled || !plugin.serverWillStart) return plugin;
  const link =
    `<a href="${GRAPHIQL_PATH}" style="position:fixed;right:12px;bottom:12px;z-index:10;font:13px sans-serif;color:#fff;background:#3f20ba;padding:6px 10px;border-radius:4px;text-decoration:none">` +
    'Offline? Open GraphiQL</a>';
  return {
    ...plugin,
    async serverWillStart(service) {
      const listener = await plugin.serverWillStart!(service);
      if (!listener?.renderLandingPage) return listener;
      return {
        ...listener,
        async renderLandingPage() {
          const landingPage = await listener.renderLandingPage!();
          const html = landingPage.html;
          const render = async () => {
            const text = typeof html === 'string' ? html : await html();
            return text.includes('</body>') ? text.replace('</body>', `${link}</body>`) : `${text}${link}`;
          };
          return { html: render };
        },
      };
    },
  };
}
