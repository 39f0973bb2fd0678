/**
 * Bearer tokens for the bench tenants, minted with the project's own signer and the same
 * secret, kid, issuer and audience the server under test is started with.
 */
import { makeAccessTokenKeys, mintAccessToken, type AccessTokenKeys } from '../src/tenancy/identification/access-tokens.js';
import { type BenchEnvironment } from './environment.js';
import { type BenchTenant } from './fixtures.js';

export type TokenMinter = { headersFor(tenants: readonly BenchTenant[]): Promise<Record<string, string>[]> };

export async function makeTokenMinter(bench: BenchEnvironment): Promise<TokenMinter> {
  // Tokens outlive the longest run (a full run takes ~15 minutes).
  const keys: AccessTokenKeys = await makeAccessTokenKeys(bench.jwtSecret, { ...bench.jwt, accessTokenTtlSeconds: 4 * 3600 });
  return {
    async headersFor(tenants) {
      return Promise.all(
        tenants.map(async (tenant) => ({
          'content-type': 'application/json',
          authorization: `Bearer ${await mintAccessToken(keys, { subject: `bench-admin-${tenant.key}`, tenantId: tenant.id, roles: ['admin'] })}`,
        })),
      );
    },
  };
}
