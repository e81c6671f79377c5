/**
 * Authenticated originators: with a key configured (--jwt-secret for HS256, --jwt-public-key for RS256 / ES256)
 * each token that comes with a request is a JSON Web Token (RFC 7519) that must verify and whose `sub` must be
 * the originator (From, compared in absolute form). --require-token makes a token mandatory; the admin originator
 * needs one whenever a key is configured. A missing,
 * malformed, expired or mismatched token is 4106 ORIGINATOR_NOT_AUTHENTICATED (TS-0003 7.2.1 step 3, TS-0004
 * 7.3.2.1), checked before anything else.
 *
 * Where the token travels: HTTP `Authorization: Bearer <jwt>` (the binding passes it in the RequestContext),
 * otherwise the request primitive's Tokens parameter (tkns; CoAP Uri-Query `tkns=`, HTTP `?tkns=`, MQTT in the
 * serialized primitive). A verified token makes rq_authn true (TS-0003 Table 7.1.2-3), which rules with
 * acaf = true require.
 */
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import type { CseConfig } from '../config.js';
import { CseError, RSC } from '../primitive/status.js';
import { absoluteId, type Identity, type Originator } from './originator.js';

const notAuthenticated = (m: string) => new CseError(RSC.ORIGINATOR_NOT_AUTHENTICATED, m);

export class TokenVerifier {
  /** a key is configured: tokens that come are verified */
  readonly enabled: boolean;
  private readonly secret?: string;
  private readonly publicKey?: Buffer;
  private readonly algorithms: jwt.Algorithm[];
  private readonly me: Identity;

  constructor(private readonly config: CseConfig) {
    if (config.jwtSecret) this.secret = config.jwtSecret;
    if (config.jwtPublicKey) this.publicKey = readFileSync(config.jwtPublicKey);
    this.algorithms = config.jwtAlgorithms as jwt.Algorithm[];
    this.enabled = this.secret !== undefined || this.publicKey !== undefined;
    this.me = { spId: config.spId, cseId: config.cseId };
  }

  /**
   * rq_authn for a request: true when one of its tokens verified for this originator, false when there was no
   * token to check (and none is required). Throws 4106 otherwise.
   */
  authenticate(o: Originator, tokens: readonly string[]): boolean {
    if (!this.enabled) return false;
    if (tokens.length === 0) {
      if (this.config.requireToken) throw notAuthenticated('this CSE requires a token (Authorization: Bearer or tkns)');
      // with tokens on, the admin's unlimited privileges belong to the holder of its token only
      if (o.isAdmin) throw notAuthenticated(`the admin originator '${o.id}' must present a token`);
      return false;
    }
    let reason = '';
    for (const token of tokens.slice(0, 4)) {
      const r = this.verify(token, o);
      if (r === true) return true;
      reason ||= r;
    }
    throw notAuthenticated(reason);
  }

  /** true, or why not */
  private verify(token: string, o: Originator): true | string {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') return 'the token is not a JSON Web Token';
    const alg = decoded.header.alg as jwt.Algorithm;
    if (!this.algorithms.includes(alg)) return `tokens signed with ${alg} are not accepted`;
    const key = alg.startsWith('HS') ? this.secret : this.publicKey;
    if (key === undefined) return `no key is configured for ${alg}`;
    let payload: jwt.JwtPayload | string;
    try {
      // a token for another service signed with the same key must not pass: audience and issuer when configured
      payload = jwt.verify(token, key, {
        algorithms: [alg],
        ...(this.config.jwtAudience ? { audience: this.config.jwtAudience } : {}),
        ...(this.config.jwtIssuer ? { issuer: this.config.jwtIssuer } : {}),
      });
    } catch (e) {
      return `the token is not valid: ${(e as Error).message}`;
    }
    const sub = typeof payload === 'string' ? undefined : payload.sub;
    if (typeof sub !== 'string' || sub === '') return 'the token has no subject (sub)';
    if (o.id === '' || absoluteId(sub, this.me) !== o.absolute)
      return `the token's subject '${sub}' is not the originator '${o.id}'`;
    return true;
  }
}
