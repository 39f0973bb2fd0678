/**
 * Baseline (a): what a team would write without tenancy. Apollo Server 5 with its standalone
 * HTTP server, a hand-written SDL schema of the same shape, and ONE PrismaClient (the project's
 * generated tenant client, PrismaPg on a pg.Pool) bound to the hot tenant's database. No token,
 * no tenant lookup, no shield, no type-graphql, no registry.
 *
 * Run by bench/run.ts as its own process: `node --import tsx bench/baselines/plain-apollo.ts`.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../../src/generated/tenant/client.js';
import { BASELINE_IDLE_MS, baselineSettings, encodeCursor } from './baseline-env.js';

const settings = baselineSettings();

const typeDefs = `#graphql
  type Patient {
    id: ID!
    mrn: String!
    firstName: String!
    lastName: String!
    birthDate: String
    email: String
    phone: String
  }
  type PatientEdge {
    node: Patient!
    cursor: String!
  }
  type PageInfo {
    hasNextPage: Boolean!
    endCursor: String
  }
  type PatientConnection {
    edges: [PatientEdge!]!
    pageInfo: PageInfo!
  }
  type Query {
    patients(first: Int = 20, after: String): PatientConnection!
  }
`;

const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: settings.poolMax, application_name: 'bench:plain-apollo', idleTimeoutMillis: BASELINE_IDLE_MS });
pool.on('error', () => {}); // an idle connection dropping must not end the baseline
const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
/** Stands in for the tenant id tenantgraph binds its cursors to. */
const SCOPE = 'plain';

const resolvers = {
  Query: {
    // The same query tenantgraph's listPatients sends (keyset order, one row more for hasNextPage).
    async patients(_parent: unknown, args: { first?: number | null }) {
      const take = args.first ?? 20;
      const rows = await prisma.patient.findMany({ orderBy: [{ lastName: 'asc' }, { firstName: 'asc' }, { id: 'asc' }], take: take + 1 });
      const edges = rows.slice(0, take).map((row) => ({
        node: { ...row, birthDate: row.birthDate ? row.birthDate.toISOString().slice(0, 10) : null },
        cursor: encodeCursor(SCOPE, [row.lastName, row.firstName, row.id]),
      }));
      return { edges, pageInfo: { hasNextPage: rows.length > take, endCursor: edges.at(-1)?.cursor ?? null } };
    },
  },
};

const server = new ApolloServer({ typeDefs, resolvers, introspection: false });
await startStandaloneServer(server, { listen: { port: settings.port, host: '127.0.0.1' } });
