/**
 * A database URL fit for a log line or an error message: without its password, whether in the user info
 * (postgres://user:secret@host/db) or in the query (?password=secret; also passfile and the TLS key).
 */
const SECRET_PARAMS = ['password', 'passfile', 'sslpassword', 'sslkey'];

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const p of SECRET_PARAMS) if (u.searchParams.has(p)) u.searchParams.set(p, '***');
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}
