/**
 * Fetches a domain's verification URL. node:http rather than fetch: fetch drops a custom Host
 * header, and `connectTo` (tests, or a deployment that must reach tenants through a proxy) sends
 * the request elsewhere while still naming the domain in Host.
 */
import http from 'node:http';

/** The body of `http://<domain><path>` when it answers 200, undefined on any other status. */
export type DomainProbe = (domain: string, path: string) => Promise<string | undefined>;

const MAX_BODY = 4096;

export function httpDomainProbe(options: { timeoutMs?: number; connectTo?: () => { host: string; port: number } } = {}): DomainProbe {
  const timeoutMs = options.timeoutMs ?? 5000;
  return (domain, path) =>
    new Promise((resolve, reject) => {
      const target = options.connectTo?.() ?? { host: domain, port: 80 };
      const request = http.get({ host: target.host, port: target.port, path, headers: { host: domain }, timeout: timeoutMs, agent: false }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          return resolve(undefined);
        }
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
          // A token is short: a huge answer is not one, and is not read to the end.
          if (body.length > MAX_BODY) {
            request.destroy();
            resolve(undefined);
          }
        });
        response.on('end', () => resolve(body));
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', reject);
    });
}
