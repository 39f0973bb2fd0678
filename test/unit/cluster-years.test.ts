import { describe, expect, it } from 'vitest';
import { assertYearInRange, clusterYearRange, yearInTimeZone } from '../../src/tenancy/cluster-years.js';

describe('yearInTimeZone', () => {
  it('takes the year in the zone: 23:30 UTC on 31 December is next year in Tokyo, this year in UTC and New York', () => {
    const instant = new Date('2025-12-31T23:30:00Z');
    expect(yearInTimeZone(instant, 'Asia/Tokyo')).toBe(2026);
    expect(yearInTimeZone(instant, 'UTC')).toBe(2025);
    expect(yearInTimeZone(new Date('2026-01-01T03:00:00Z'), 'America/New_York')).toBe(2025);
  });

  it('treats an unknown or missing zone as UTC', () => {
    const instant = new Date('2025-12-31T23:30:00Z');
    expect(yearInTimeZone(instant, 'Mars/Olympus')).toBe(2025);
    expect(yearInTimeZone(instant, null)).toBe(2025);
  });
});

describe('clusterYearRange', () => {
  it('runs from CLUSTER_YEARS_MIN to next year in the zone', () => {
    expect(clusterYearRange(2010, 'UTC', new Date('2026-06-01T00:00:00Z'))).toEqual({ min: 2010, max: 2027 });
    expect(clusterYearRange(2000, 'Asia/Tokyo', new Date('2026-12-31T20:00:00Z'))).toEqual({ min: 2000, max: 2028 });
    expect(() => assertYearInRange(2028, { min: 2000, max: 2027 })).toThrow(/2000 to 2027/);
    expect(() => assertYearInRange(2026.5, { min: 2000, max: 2027 })).toThrow();
    expect(() => assertYearInRange(2027, { min: 2000, max: 2027 })).not.toThrow();
  });
});
