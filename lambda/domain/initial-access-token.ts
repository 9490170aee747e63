/**
 * RFC 7591 section 3: a deployment may require an initial access token at POST /register, so
 * only those it was given to can register (MCP clients such as Claude cannot send one: this is
 * for closed deployments). Compared as hashes, in constant time.
 */
import { OAuthError } from './oauth-error.js';
import { hashSecret, secretMatchesHash } from './secrets.js';

export function initialAccessTokenCheck(expected: string | undefined): (authorization: string | undefined) => void {
  if (!expected) return () => undefined;
  const expectedHash = hashSecret(expected);
  return (authorization) => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) {
      throw new OAuthError('invalid_token', 'Registration requires an initial access token.', 401, {
        'WWW-Authenticate': 'Bearer',
      });
    }
    if (!secretMatchesHash(token, expectedHash)) {
      throw new OAuthError('invalid_token', 'The initial access token is not valid.', 401, {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    }
  };
}
