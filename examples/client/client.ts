/**
 * A small typed tenantgraph client: plain `fetch`, and the TypedDocumentNodes that
 * `npm run codegen` generates from `examples/client/documents/*.graphql` against `schema.graphql`.
 * Variables and results are checked by TypeScript, so a schema change that breaks an operation
 * fails `npm run typecheck` instead of failing in a browser.
 *
 * Frontend teams: copy this file's `request` (or use any GraphQL client that understands
 * TypedDocumentNode, e.g. Apollo Client or urql) and generate your own documents the same way.
 */
import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import {
  ListPatientsDocument,
  RecordVisitDocument,
  VisitsOfYearDocument,
  type ListPatientsQuery,
  type ListPatientsQueryVariables,
  type RecordVisitInput,
  type RecordVisitMutation,
  type VisitsOfYearQuery,
  type VisitsOfYearQueryVariables,
} from './generated/graphql.js';

/**
 * Every `errors[].extensions.code` the server sends (src/errors/error-code.ts; codes are never
 * renamed, only added). test/integration/typed-client.test.ts fails when this list drifts.
 */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TENANT_NOT_FOUND',
  'TENANT_MISMATCH',
  'TENANT_SUSPENDED',
  'TENANT_MAINTENANCE',
  'TENANT_CONTEXT_REQUIRED',
  'CONFLICT',
  'CLUSTER_NOT_READY',
  'SUBSCRIPTION_EXPIRED',
  'QUOTA_EXCEEDED',
  'RATE_LIMITED',
  'TWO_FACTOR_REQUIRED',
  'INVITATION_INVALID',
  'INVITATION_EXPIRED',
  'INVITATION_USED',
  'INVITATION_REVOKED',
  'DATABASE_BUSY',
  'DATABASE_UNAVAILABLE',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
  'QUERY_TOO_COMPLEX',
  'TIMEOUT',
  'SHUTTING_DOWN',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** One entry of a GraphQL response's `errors`. */
export type GraphQLResponseError = {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; requestId?: string; [key: string]: unknown };
};

/** A request that answered with `errors` (or not with GraphQL at all). */
export class TenantgraphError extends Error {
  /** HTTP status of the response. */
  readonly status: number;
  readonly errors: readonly GraphQLResponseError[];
  /** `x-request-id` of the response; quote it when reporting a problem. */
  readonly requestId: string | null;
  /** Seconds from `Retry-After` (TENANT_MAINTENANCE, DATABASE_BUSY, DATABASE_UNAVAILABLE), else null. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, errors: readonly GraphQLResponseError[], headers: Headers) {
    super(errors.map((error) => error.message).join('; ') || `HTTP ${status}`);
    this.name = 'TenantgraphError';
    this.status = status;
    this.errors = errors;
    this.requestId = headers.get('x-request-id');
    const retryAfter = Number(headers.get('retry-after') ?? Number.NaN);
    this.retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : null;
  }

  /**
   * The first error's `extensions.code`: one of ERROR_CODES, or one of Apollo's own codes for a
   * request it could not run (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, ...).
   */
  get code(): ErrorCode | (string & Record<never, never>) | undefined {
    return this.errors[0]?.extensions?.code;
  }

  /** True when some error of the response has this code. */
  has(code: ErrorCode): boolean {
    return this.errors.some((error) => error.extensions?.code === code);
  }
}

export type ClientOptions = {
  /** The GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  /** Access token, sent as `Authorization: Bearer <token>`; its `tid` claim picks the tenant. */
  token: string;
  /**
   * `X-Tenant` (slug or id): lets an admin of a group or app, or a system admin, act on one of
   * its tenants. Default: not sent (the token's tenant is used).
   */
  tenant?: string;
  /** The fetch to use. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
};

export type Patient = ListPatientsQuery['patients']['edges'][number]['node'];
export type PatientPage = ListPatientsQuery['patients'];
export type RecordedVisit = RecordVisitMutation['recordVisit'];
export type VisitSummary = VisitsOfYearQuery['visits'][number];

export type TenantgraphClient = ReturnType<typeof makeClient>;

export function makeClient(options: ClientOptions) {
  const doFetch = options.fetch ?? globalThis.fetch;
  const printed = new WeakMap<object, string>();

  /**
   * Runs one operation as `POST` JSON (the server's CSRF prevention accepts that; a GET would need
   * an `apollo-require-preflight` header). Throws TenantgraphError when the response has errors.
   */
  async function request<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables): Promise<TResult> {
    let query = printed.get(document);
    if (query === undefined) {
      query = print(document);
      printed.set(document, query);
    }
    const response = await doFetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${options.token}`,
        ...(options.tenant ? { 'x-tenant': options.tenant } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    let body: { data?: TResult | null; errors?: GraphQLResponseError[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new TenantgraphError(response.status, [{ message: `Not a GraphQL response (HTTP ${response.status}): ${text.slice(0, 200)}` }], response.headers);
    }
    if (body.errors?.length) throw new TenantgraphError(response.status, body.errors, response.headers);
    if (body.data == null) throw new TenantgraphError(response.status, [{ message: 'The response has neither data nor errors' }], response.headers);
    return body.data;
  }

  return {
    request,

    /** One page of patients, ordered by last name, first name. */
    async listPatients(variables: ListPatientsQueryVariables): Promise<PatientPage> {
      return (await request(ListPatientsDocument, variables)).patients;
    },

    /**
     * Every patient, page by page: passes each page's `endCursor` as the next `after`.
     * Cursors belong to the tenant that made them; another tenant refuses them (BAD_USER_INPUT).
     */
    async *eachPatient({ pageSize = 50, search }: { pageSize?: number; search?: string } = {}): AsyncGenerator<Patient> {
      let after: string | null = null;
      for (;;) {
        const page: PatientPage = (await request(ListPatientsDocument, { first: pageSize, after, search })).patients;
        for (const edge of page.edges) yield edge.node;
        if (!page.pageInfo.hasNextPage || page.pageInfo.endCursor === null) return;
        after = page.pageInfo.endCursor;
      }
    },

    /** Records a visit; `visitedAt` (ISO 8601) defaults to now and picks the year's EMR schema. */
    async recordVisit(input: RecordVisitInput): Promise<RecordedVisit> {
      return (await request(RecordVisitDocument, { input })).recordVisit;
    },

    /** Visits of a year, newest first (at most 500), optionally of one patient. */
    async visitsOfYear(variables: VisitsOfYearQueryVariables): Promise<VisitSummary[]> {
      return (await request(VisitsOfYearDocument, variables)).visits;
    },
  };
}
