/**
 * What GraphQL administration (system admins, ancestors' admins) may ask of the tenancy, as a
 * narrow service on ScopeServices: resolvers never hold the admin pool or the key ring itself.
 */
import { rotateStoredSecrets, type RotationReport } from './secrets/rotate-secrets.js';
import { type AddDbServerInput, type DbServerInfo } from './servers/db-servers.js';
import { type Tenancy } from './tenancy.js';

export type TenancyAdministration = {
  listDbServers(): Promise<DbServerInfo[]>;
  addDbServer(input: AddDbServerInput): Promise<DbServerInfo>;
  rotateEncryptionKeys(): Promise<RotationReport>;
};

export function makeTenancyAdministration(tenancy: Pick<Tenancy, 'servers' | 'central' | 'keyRing' | 'logger'>): TenancyAdministration {
  return {
    listDbServers: () => tenancy.servers.list(),
    addDbServer: (input) => tenancy.servers.add(input),
    async rotateEncryptionKeys() {
      const report = await rotateStoredSecrets(tenancy.central, tenancy.keyRing);
      tenancy.logger.info({ keyId: report.keyId, rotated: report.rotated, current: report.current, failed: report.failures.length }, 'stored secrets re-encrypted');
      return report;
    },
  };
}
