/**
 * RFC 7591 section 3: a deployment may require an initial access token at POST /register, so
 * only those it was given to can register (MCP clients such as Claude cannot send one: this is
 * for closed deployments). Compared as hashes, in constant time.
 */
import { bearerChallenge, bearerToken, isB64Token } from './bearer.js';
import { hashSecret, secretMatchesHash } from './credentials.js';
import { OAuthError } from './oauth-error.js';

export function initialAccessTokenCheck(expected: string | undefined): (authorization: string | undefined) => void {
  if (!expected) return () => undefined;
  // A value outside RFC 6750's b64token could never be presented in a Bearer header.
  if (!isB64Token(expected)) throw new Error('The initial access token must be a b64token (RFC 6750 section 2.1)');
  const expectedHash = hashSecret(expected);
  return (authorization) => {
    const token = bearerToken(authorization);
    if (!token) {
      throw new OAuthError('invalid_token', 'Registration requires an initial access token.', 401, {
        'WWW-Authenticate': bearerChallenge(),
      });
    }
    if (!secretMatchesHash(token, expectedHash)) {
      throw new OAuthError('invalid_token', 'The initial access token is not valid.', 401, {
        'WWW-Authenticate': bearerChallenge({ error: 'invalid_token' }),
      });
    }
  };
}
