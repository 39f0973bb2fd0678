/**
 * makeServer(): Apollo Server 5 on Node's http, plus the plain HTTP routes (health).
 *
 * We drive Apollo through `executeHTTPGraphQLRequest` ourselves instead of an integration
 * package: one small handler, our own body limit and JSON errors, no framework on the hot path.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { type GraphQLSchema } from 'graphql';
import { impersonationAuditPlugin } from './auth/impersonation-audit-plugin.js';
import { type Config } from './config.js';
import { createRequestContext, type ContextDependencies } from './context/create-context.js';
import { currentRequestId, type Readiness, type RequestContext } from './context/request-context.js';
import { runInScopeState, type EnteredScope, type ScopeState } from './tenancy/bootstrappers/index.js';
import { ErrorCode, makeFormatError, retryableErrorsPlugin } from './errors/index.js';
import { type Logger } from './infra/logger.js';
import { storableInputPlugin } from './input/storable-input.plugin.js';
import { serveHomepage, type HomepageDependencies } from './resolvers/homepage/homepage.page.js';
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
};

export type TenantgraphServer = {
  httpServer: http.Server;
  apollo: ApolloServer<RequestContext>;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, drains in-flight requests, stops Apollo. */
  close(): Promise<void>;
};

const GRAPHQL_PATH = '/graphql';
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export async function makeServer({ config, logger, schema, context: contextDeps, readiness: checkReadiness, homepage }: MakeServerOptions): Promise<TenantgraphServer> {
  const httpServer = http.createServer();
  httpServer.keepAliveTimeout = 65_000; // above common load balancer idle timeouts
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: config.graphql.introspection,
    csrfPrevention: true,
    // main.ts owns signals: Apollo's own handler would re-raise the signal and kill the drain.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    // No "Did you mean ...?" in errors when introspection is off: suggestions would leak the schema.
    hideSchemaDetailsFromClientErrors: !config.graphql.introspection,
    formatError: makeFormatError(logger, currentRequestId),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.http.shutdownTimeoutMs }),
      config.graphql.sandbox ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }) : ApolloServerPluginLandingPageDisabled(),
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
    const requestId = pickRequestId(req);
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === GRAPHQL_PATH) {
        await handleGraphQL(req, res, url, requestId);
      } else if (url.pathname === '/health/live' && isRead(req)) {
        sendJson(res, 200, { status: 'ok' });
      } else if (url.pathname === '/health/ready' && isRead(req)) {
        const readiness = await checkReadiness();
        // Degraded (Redis down) is still 200: the server serves from the database meanwhile.
        if (!readiness.ready) sendJson(res, 503, { status: 'not_ready', reason: readiness.reason });
        else sendJson(res, 200, readiness.degraded === undefined ? { status: 'ready' } : { status: 'degraded', reason: readiness.degraded });
      } else if (url.pathname === '/' && isRead(req)) {
        await serveHomepage(homepage, req, res);
      } else {
        sendJson(res, 404, { error: 'Not found', routes: [GRAPHQL_PATH, '/health/live', '/health/ready'] });
      }
    } catch (error) {
      logger.error({ err: error, requestId }, 'unhandled error in HTTP handler');
      if (!res.headersSent) sendGraphQLError(req, res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error', requestId);
      else res.destroy();
    }
  };

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) {
    const method = req.method?.toUpperCase() ?? 'GET';
    // Refused before Apollo sees them, so no request context (and no database lease) is made.
    if (method !== 'GET' && method !== 'POST') {
      req.resume();
      return sendGraphQLError(req, res, 405, ErrorCode.BAD_REQUEST, `${GRAPHQL_PATH} accepts GET and POST requests only`, requestId, { allow: 'GET, POST' });
    }
    let body: unknown;
    if (method === 'POST') {
      const refusal = refusePostContent(req);
      if (refusal) {
        req.resume();
        return sendGraphQLError(req, res, 415, ErrorCode.BAD_REQUEST, refusal.message, requestId, refusal.headers);
      }
      let raw: string;
      try {
        raw = await readBody(req, config.http.bodyLimitBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          return sendGraphQLError(req, res, 413, ErrorCode.PAYLOAD_TOO_LARGE, `Request body is larger than ${config.http.bodyLimitBytes} bytes`, requestId);
        }
        if (error instanceof BodyNotUtf8Error) {
          return sendGraphQLError(req, res, 400, ErrorCode.BAD_REQUEST, 'Request body is not valid UTF-8', requestId);
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
        return sendGraphQLError(req, res, 400, ErrorCode.BAD_REQUEST, 'Request body is not valid JSON', requestId);
      }
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const state: ScopeState = { id: requestId, context: undefined };
    let entered: EnteredScope | undefined;
    try {
      const response = await runInScopeState(state, () =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method, headers, search: url.search, body },
          context: async () => {
            entered = await createRequestContext(contextDeps, { requestId, headers: req.headers, remoteAddress: req.socket.remoteAddress });
            state.context = entered;
            return entered;
          },
        }),
      );
      await writeResponse(res, response);
    } finally {
      // The response is complete: the request's handles (database leases first) go back.
      await entered?.release();
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
    // apollo.stop() runs the drain plugin: stop accepting, wait for in-flight requests, close.
    close: () => apollo.stop(),
  };
}

async function writeResponse(res: ServerResponse, response: HTTPGraphQLResponse) {
  res.statusCode = response.status ?? 200;
  for (const [key, value] of response.headers) res.setHeader(key, value);
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
function sendGraphQLError(req: IncomingMessage, res: ServerResponse, status: number, code: ErrorCode, message: string, requestId: string, headers: Record<string, string> = {}) {
  const accept = req.headers.accept;
  const prefersGraphQLResponse = accept !== undefined && acceptWeight(accept, 'application/graphql-response+json') > acceptWeight(accept, 'application/json');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.statusCode = status;
  res.setHeader('content-type', prefersGraphQLResponse ? GRAPHQL_RESPONSE_MEDIA_TYPE : JSON_MEDIA_TYPE);
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify({ errors: [{ message, extensions: { code, requestId } }] }));
}
