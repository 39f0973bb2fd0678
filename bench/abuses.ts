/**
 * Issue 7's abusive requests, as the `abuse` scenario's client (bench/abuse-client.ts) replays
 * them and as bench/refusal-cost.ts prices them. Bodies are encoded once: on a small machine the
 * abuser's own CPU competes with the server's.
 */
export type Abuse = { name: string; body: Uint8Array; headers: Record<string, string> };

const HEAVY = 'edges { node { id lastName visits { id practitioner { name } } invoices { id lines { id catalogItem { name } } } } }';
const aliases = (n: number, first: number) => Array.from({ length: n }, (_, i) => `p${i}: patients(first: ${first}) { ${HEAVY} }`).join(' ');
const encode = (payload: unknown) => new TextEncoder().encode(JSON.stringify(payload));

/** @param authorization `Bearer …` of an admin of the abusing tenant */
export function abuses(authorization: string): Abuse[] {
  const json = { 'content-type': 'application/json' };
  const admin = { ...json, authorization };
  return [
    { name: '1,000 aliases of patients(first: 100)', body: encode({ query: `{ ${aliases(1000, 100)} }` }), headers: admin },
    { name: '100 aliases', body: encode({ query: `{ ${aliases(100, 100)} }` }), headers: admin },
    { name: '5 × patients(first: 100), cost', body: encode({ query: `{ ${aliases(5, 100)} }` }), headers: admin },
    { name: 'field nested 5,000 deep', body: encode({ query: `{ patients { edges { node { ${'visits { '.repeat(5000)}id${' }'.repeat(5000)} } } } }` }), headers: admin },
    { name: 'anonymous 1 MB { me { subject … } }', body: encode({ query: `{ me { ${'subject '.repeat(120_000)}} }` }), headers: json },
    { name: 'forged token', body: encode({ query: '{ me { subject } }' }), headers: { ...json, authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.Zm9yZ2Vk' } },
  ];
}
