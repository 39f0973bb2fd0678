/**
 * GraphiQL at /graphiql (development, with introspection on): an explorer that works offline.
 * Apollo Sandbox's page loads Sandbox from Apollo's CDN; this page loads GraphiQL's UMD bundle
 * and React's from our own node_modules (the `graphiql`, `react` and `react-dom` dependencies),
 * so it needs nothing but this server.
 *
 * Assets are served under a path holding the package version, so they can be cached for a year.
 */
import { readFile } from 'node:fs/promises';
import { type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

export const GRAPHIQL_PATH = '/graphiql';

type Asset = { file: string; type: string };

const require = createRequire(import.meta.url);

function packageDir(name: string): { dir: string; version: string } {
  const manifest = require.resolve(`${name}/package.json`);
  return { dir: path.dirname(manifest), version: (require(manifest) as { version: string }).version };
}

export type GraphiqlRoutes = {
  /** Answers GET/HEAD for /graphiql and its assets; false when the path is not one of them. */
  handle(pathname: string, res: ServerResponse, head: boolean): Promise<boolean>;
};

export function makeGraphiqlRoutes(graphqlPath: string): GraphiqlRoutes {
  const graphiql = packageDir('graphiql');
  const react = packageDir('react');
  const reactDom = packageDir('react-dom');
  const assets = new Map<string, Asset>([
    [`react-${react.version}.js`, { file: path.join(react.dir, 'umd', 'react.production.min.js'), type: 'text/javascript; charset=utf-8' }],
    [`react-dom-${reactDom.version}.js`, { file: path.join(reactDom.dir, 'umd', 'react-dom.production.min.js'), type: 'text/javascript; charset=utf-8' }],
    [`graphiql-${graphiql.version}.js`, { file: path.join(graphiql.dir, 'graphiql.min.js'), type: 'text/javascript; charset=utf-8' }],
    [`graphiql-${graphiql.version}.css`, { file: path.join(graphiql.dir, 'graphiql.min.css'), type: 'text/css; charset=utf-8' }],
  ]);
  const assetUrl = (name: string) => `${GRAPHIQL_PATH}/assets/${name}`;
  const names = [...assets.keys()];
  const page = renderPage({
    graphqlPath,
    styles: [assetUrl(names[3]!)],
    scripts: [assetUrl(names[0]!), assetUrl(names[1]!), assetUrl(names[2]!)],
  });
  // Read on first request, then kept: about 1.5 MB, and only where the explorer is on.
  const loaded = new Map<string, Promise<Buffer>>();

  return {
    async handle(pathname, res, head) {
      if (pathname === GRAPHIQL_PATH || pathname === `${GRAPHIQL_PATH}/`) {
        res.statusCode = 200;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.setHeader('cache-control', 'no-store');
        res.end(head ? undefined : page);
        return true;
      }
      const prefix = `${GRAPHIQL_PATH}/assets/`;
      if (!pathname.startsWith(prefix)) return false;
      const asset = assets.get(pathname.slice(prefix.length));
      if (!asset) return false;
      let body = loaded.get(asset.file);
      if (!body) {
        body = readFile(asset.file);
        loaded.set(asset.file, body);
      }
      const bytes = await body;
      res.statusCode = 200;
      res.setHeader('content-type', asset.type);
      res.setHeader('content-length', bytes.length);
      // The version is in the path: a new version is a new URL.
      res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      res.end(head ? undefined : bytes);
      return true;
    },
  };
}

function renderPage({ graphqlPath, styles, scripts }: { graphqlPath: string; styles: string[]; scripts: string[] }): string {
  const defaultQuery = [
    '# GraphiQL, served by tenantgraph itself (no CDN): works offline.',
    '# Tenant data needs a token: `npx tenantgraph token --tenant demo-clinic-a --role admin`,',
    '# then put {"Authorization": "Bearer <token>"} in the Headers tab below.',
    '{',
    '  serverInfo {',
    '    version',
    '  }',
    '  currentTenant {',
    '    level',
    '  }',
    '}',
    '',
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tenantgraph · GraphiQL</title>
${styles.map((href) => `<link rel="stylesheet" href="${href}">`).join('\n')}
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
${scripts.map((src) => `<script src="${src}"></script>`).join('\n')}
<script>
  const fetcher = GraphiQL.createFetcher({ url: ${JSON.stringify(graphqlPath)} });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: ${JSON.stringify(defaultQuery)},
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
</script>
</body>
</html>
`;
}
