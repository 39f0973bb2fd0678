/**
 * Browser-side sign-in and token refresh (runs in any `fetch` environment).
 *
 * - The access token (≤ 15 min) lives in memory only; `accessToken()` refreshes it shortly before
 *   it expires.
 * - The refresh token rotates on every refresh. Two tabs (or two concurrent calls) refreshing with
 *   the same token look like a stolen token to the server, which then revokes the whole sign-in;
 *   so refreshes are single-flight here, and a `storage` shared by tabs (default: none) should be
 *   paired with a lock such as `navigator.locks` in real apps.
 * - TWO_FACTOR_REQUIRED is surfaced as `{ kind: 'two-factor', challenge }`; finish with
 *   `verifyTwoFactor(challenge, code)`.
 *
 *   const session = makeSession({ url: '/graphql' });
 *   const step = await session.signIn({ email, password, tenant: 'demo-clinic-a' });
 *   if (step.kind === 'two-factor') await session.verifyTwoFactor(step.challenge, prompt('Code')!);
 *   const client = makeClient({ url: '/graphql', token: await session.accessToken() });
 */
import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { TenantgraphError, type GraphQLResponseError } from './client.js';
import { RefreshSessionDocument, SignInDocument, SignOutDocument, VerifyTwoFactorDocument } from './generated/graphql.js';

/** Where the refresh token is kept between page loads; default: memory only (sign in per load). */
export type TokenStorage = { get(): string | null; set(token: string | null): void };

export type SessionOptions = {
  url: string;
  fetch?: typeof fetch;
  storage?: TokenStorage;
  /** Refresh this long before the access token expires. Default 60 s. */
  refreshMarginMs?: number;
  /** Default `Date.now`. */
  now?: () => number;
};

type Tokens = { accessToken: string; expiresAt: string; refreshToken?: string | null };
export type SignInStep = { kind: 'signed-in' } | { kind: 'two-factor'; challenge: string; enrolmentRequired: boolean };

export function makeSession(options: SessionOptions) {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const margin = options.refreshMarginMs ?? 60_000;
  let memoryRefresh: string | null = null;
  const storage: TokenStorage = options.storage ?? { get: () => memoryRefresh, set: (token) => (memoryRefresh = token) };
  let access: { token: string; expiresAtMs: number } | null = null;
  let refreshing: Promise<string> | null = null;

  async function send<R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> {
    const response = await doFetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as { data?: R | null; errors?: GraphQLResponseError[] };
    if (body.errors?.length || !body.data) throw new TenantgraphError(response.status, body.errors ?? [], response.headers);
    return body.data;
  }

  function keep(tokens: Tokens): void {
    access = { token: tokens.accessToken, expiresAtMs: Date.parse(tokens.expiresAt) };
    if (tokens.refreshToken) storage.set(tokens.refreshToken);
  }

  return {
    /** Signs in; answers whether a second factor is still needed. */
    async signIn(input: { email: string; password: string; tenant?: string }): Promise<SignInStep> {
      try {
        keep((await send(SignInDocument, input)).login);
        return { kind: 'signed-in' };
      } catch (error) {
        if (error instanceof TenantgraphError && error.code === 'TWO_FACTOR_REQUIRED') {
          const extensions = error.errors[0]?.extensions ?? {};
          return { kind: 'two-factor', challenge: String(extensions.challenge), enrolmentRequired: extensions.enrolmentRequired === true };
        }
        throw error; // UNAUTHENTICATED (wrong credentials), RATE_LIMITED (see retryAfterSeconds), ...
      }
    },

    async verifyTwoFactor(challenge: string, code: string): Promise<void> {
      keep((await send(VerifyTwoFactorDocument, { challenge, code })).verifyTwoFactor);
    },

    /** A valid access token, refreshed (once, however many callers wait) when close to expiry. */
    async accessToken(): Promise<string> {
      if (access && access.expiresAtMs - margin > now()) return access.token;
      refreshing ??= (async () => {
        const token = storage.get();
        if (!token) throw new Error('Not signed in');
        try {
          const tokens = (await send(RefreshSessionDocument, { token })).refreshToken;
          keep(tokens);
          return tokens.accessToken;
        } catch (error) {
          // Expired, revoked or replayed: the sign-in is over.
          storage.set(null);
          access = null;
          throw error;
        }
      })().finally(() => (refreshing = null));
      return refreshing;
    },

    async signOut(): Promise<void> {
      const token = storage.get();
      storage.set(null);
      access = null;
      if (token) await send(SignOutDocument, { refreshToken: token });
    },
  };
}
