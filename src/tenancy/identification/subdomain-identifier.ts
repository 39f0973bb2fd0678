import { SLUG_PATTERN } from '../model.js';
import { type IdentificationInput, type Principal } from './identification-types.js';
import { isCentralHost, type CentralHosts, type IdentifierResult, type TenantIdentifier } from './tenant-identifier.js';
import { type TenantDirectory } from './tenant-directory.js';

/**
 * `<slug>.<CENTRAL_DOMAIN>`: one label in front of the central domain, naming a tenant's slug.
 * Deeper names (`a.b.<central>`) are not subdomains of a tenant and say nothing.
 */
export class SubdomainIdentifier implements TenantIdentifier {
  readonly name = 'subdomain' as const;
  private readonly suffix: string;

  constructor(private readonly hosts: CentralHosts) {
    this.suffix = `.${hosts.centralDomain}`;
  }

  async identify(input: IdentificationInput, _principal: Principal, directory: TenantDirectory): Promise<IdentifierResult> {
    if (!input.host) return undefined;
    if (isCentralHost(input.host, this.hosts)) return 'central';
    if (!input.host.endsWith(this.suffix)) return undefined;
    const label = input.host.slice(0, -this.suffix.length);
    if (!SLUG_PATTERN.test(label)) return undefined;
    return directory.findBySlug(label);
  }
}
