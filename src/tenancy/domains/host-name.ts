/**
 * Which strings may be a tenant's custom domain: a DNS host name (RFC 1123 labels of 1 to 63
 * letters, digits and inner hyphens, at least two labels, at most 253 characters), lower-case,
 * with a top-level label that is not all digits (so no IPv4 address), no port, no trailing dot.
 */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function validHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return false;
  return !/^[0-9]+$/.test(labels[labels.length - 1]!);
}
