/** A database URL in a log line or an error shows no password (issue 9 review). */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { redactUrl } from '../../src/util/redact.js';

describe('redactUrl', () => {
  it('hides a password in the user info and in the query', () => {
    expect(redactUrl('postgres://cse:S3cret@db:5432/cse')).toBe('postgres://cse:***@db:5432/cse');
    const q = redactUrl('postgres://cse@db/cse?password=S3cret&sslkey=/k&application_name=x');
    expect(q).not.toContain('S3cret');
    expect(q).not.toContain('/k');
    expect(q).toContain('application_name=x');
    expect(redactUrl('postgres://cse@db/cse')).toBe('postgres://cse@db/cse');
  });

  it('a wrong --db scheme is refused without echoing the password', () => {
    let err: unknown;
    try {
      loadConfig(['--db', 'mysql://cse:S3cret@db/cse']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toContain('S3cret');
    expect((err as Error).message).toContain('must be a PostgreSQL URL');
  });
});
