import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

describe('app.yml', () => {
  const manifest = parse(readFileSync(new URL('../app.yml', import.meta.url), 'utf8')) as {
    default_permissions: Record<string, string>;
    default_events: string[];
  };

  it('asks for exactly contents:write, pull_requests:write and metadata:read', () => {
    expect(manifest.default_permissions).toEqual({ contents: 'write', pull_requests: 'write', metadata: 'read' });
  });

  it('subscribes to installation, installation_repositories, pull_request and the two review events only', () => {
    expect([...manifest.default_events].sort()).toEqual([
      'installation',
      'installation_repositories',
      'pull_request',
      'pull_request_review',
      'pull_request_review_comment',
    ]);
  });
});
