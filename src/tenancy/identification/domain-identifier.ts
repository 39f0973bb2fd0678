import { type IdentificationInput, type Principal } from './identification-types.js';
import { isCentralHost, type CentralHosts, type IdentifierResult, type TenantIdentifier } from './tenant-identifier.js';
import { type TenantDirectory } from './tenant-directory.js';

/** The tenant owning the request's host in `domains` (exact match); central hosts say 'central'. */
export class DomainIdentifier implements TenantIdentifier {
  readonly name = 'domain' as const;

  constructor(private readonly hosts: CentralHosts) {}

  async identify(input: IdentificationInput, _principal: Principal, directory: TenantDirectory): Promise<IdentifierResult> {
    if (!input.host) return undefined;
    if (isCentralHost(input.host, this.hosts)) return 'central';
    return directory.findByDomain(input.host);
  }
}
