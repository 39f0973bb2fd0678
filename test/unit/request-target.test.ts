import { describe, expect, it } from 'vitest';
import { requestTarget, searchParam } from '../../src/http/request-target.js';

describe('requestTarget', () => {
  it('splits the targets every request sends exactly as the URL parser does', () => {
    for (const target of ['/graphql', '/graphql?query=%7B%20a%20%7D&x=1', '/graphql?', '/', '/health/ready', '/graphiql/assets/app.js?v=2', '/graphql/../metrics', '/%67raphql', '/a\\b', 'http://evil.example/graphql?x', '/graphql#frag', '/graphql?q#frag', '//graphql', '/./graphql', '/caf\u00e9', '/a b', '/graphql?query={ a }']) {
      const parsed = new URL(target, 'http://localhost');
      expect(requestTarget(target), target).toEqual({ pathname: parsed.pathname, search: parsed.search });
    }
    expect(requestTarget(undefined)).toEqual({ pathname: '/', search: '' });
  });

  it('reads a query parameter on demand', () => {
    expect(searchParam(requestTarget('/graphql?query=%7B%20a%20%7D'), 'query')).toBe('{ a }');
    expect(searchParam(requestTarget('/graphql'), 'query')).toBeNull();
  });
});
