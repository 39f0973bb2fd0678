/**
 * The N busiest tenants by request count, in bounded memory (the Space-Saving algorithm):
 * at most `capacity` tenants are tracked; a new tenant arriving when full takes the place of the
 * least counted one and inherits its count, so a busy tenant can never be pushed out by a stream
 * of one-off tenants. Counts are upper bounds; the top of the list is what matters.
 *
 * Only used when METRICS_TENANT_LABELS > 0: tenant slugs as metric labels are opt-in.
 */
export class TopTenants {
  private readonly counts = new Map<string, number>();

  /** @param capacity tenants tracked at once; keep it a few times the N you report */
  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  add(tenant: string): void {
    const current = this.counts.get(tenant);
    if (current !== undefined) {
      this.counts.set(tenant, current + 1);
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(tenant, 1);
      return;
    }
    // Full: O(capacity), but only for a tenant not tracked yet.
    let smallest: string | undefined;
    let smallestCount = Infinity;
    for (const [key, count] of this.counts) {
      if (count < smallestCount) {
        smallest = key;
        smallestCount = count;
      }
    }
    this.counts.delete(smallest!);
    this.counts.set(tenant, smallestCount + 1);
  }

  /** The `n` highest counts, highest first. */
  top(n: number): [tenant: string, requests: number][] {
    return [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, n);
  }

  get size(): number {
    return this.counts.size;
  }
}
