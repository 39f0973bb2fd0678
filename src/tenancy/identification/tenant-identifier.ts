import { type IdentifierName } from '../../config.js';
import { type IdentificationInput, type Principal, type TenantChain } from './identification-types.js';
import { type TenantDirectory } from './tenant-directory.js';

/** What one strategy concluded: a tenant, "this is the central domain", or nothing to say. */
export type IdentifierResult = TenantChain | 'central' | undefined;

/**
 * One identification strategy (DESIGN §2 step 2). An identifier answers only from its own
 * evidence; `identifyRequest` reconciles the answers and applies tenant status. It may throw an
 * AppError when its evidence is itself wrong (a token naming a vanished tenant, a forbidden header).
 */
export interface TenantIdentifier {
  readonly name: IdentifierName;
  identify(input: IdentificationInput, principal: Principal, directory: TenantDirectory): Promise<IdentifierResult>;
}

/** Hosts that serve the central (landlord) API: CENTRAL_DOMAINS plus CENTRAL_DOMAIN itself. */
export type CentralHosts = { centralDomains: readonly string[]; centralDomain: string };

export function isCentralHost(host: string, hosts: CentralHosts): boolean {
  return host === hosts.centralDomain || hosts.centralDomains.includes(host);
}
