/**
 * RFC 7591 client metadata rules: turn any parsed JSON body into the metadata that will be
 * registered, or a named OAuth error (`invalid_redirect_uri` or `invalid_client_metadata`)
 * whose description names the field and the rule it broke. /register, RFC 7592 updates and
 * Client ID Metadata Documents all validate here.
 */
import * as v from 'valibot';
import {
  CLIENT_ASSERTION_SIGNING_ALGS,
  type ClientAssertionSigningAlg,
  GRANT_TYPES,
  type GrantType,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type TokenEndpointAuthMethod,
} from '../contract/capabilities.js';
import { DEFAULT_REDIRECT_URI_POLICY, type RedirectUriPolicy } from '../contract/settings.js';
import { type ClientJwks, jwksProblem } from './client-assertion.js';
import { LOOPBACK_HTTP_HOSTS } from './client-id-url.js';
import { OAuthError } from './oauth-error.js';
import {
  APPLICATION_TYPES,
  type ApplicationType,
  REDIRECT_URI_LIMITS,
  redirectUriProblem,
} from './redirect-uri-policy.js';

export const METADATA_LIMITS = {
  text: 200,
  scope: 1000,
  uri: 2000,
  contacts: 10,
  contact: 320,
  grantTypes: 10,
} as const;

export interface ClientMetadata {
  redirect_uris: string[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  grant_types: GrantType[];
  response_types: ['code'];
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  contacts?: string[];
  scope?: string;
  software_id?: string;
  software_version?: string;
  application_type?: ApplicationType;
  /** private_key_jwt only (RFC 7591 2): the client's public keys, exactly one of the two. */
  jwks?: ClientJwks;
  jwks_uri?: string;
  /** private_key_jwt only (OpenID Connect Dynamic Client Registration 2): the one alg it signs with. */
  token_endpoint_auth_signing_alg?: ClientAssertionSigningAlg;
}

/** A confidential client: it authenticates at /token with a secret or with its key. */
export function isConfidential(metadata: Pick<ClientMetadata, 'token_endpoint_auth_method'>): boolean {
  return metadata.token_endpoint_auth_method !== 'none';
}

/** Whether the server issues the client a client_secret: the two secret methods only. */
export function issuesSecret(metadata: Pick<ClientMetadata, 'token_endpoint_auth_method'>): boolean {
  return (
    metadata.token_endpoint_auth_method === 'client_secret_basic' ||
    metadata.token_endpoint_auth_method === 'client_secret_post'
  );
}

/**
 * Characters refused in every field a person reads (the consent page, an administrator's console,
 * a log line): the name, the URLs shown or linked, software_id and _version, contacts, scope.
 *
 * - Cc, control characters (U+0000-U+001F, U+007F-U+009F), and Zl/Zp, the line and paragraph
 *   separators U+2028/U+2029: they break a line, a log record or a page's layout.
 * - Cf, format characters, invisible by definition. Among them the bidirectional controls (U+061C,
 *   U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) reorder the text around them, so that a name or a
 *   URL reads as something else (`evil.example/\u202Emoc.elgoog` shows as `evil.example/google.com`);
 *   the zero-width space U+200B, the word joiner U+2060, U+FEFF, the soft hyphen U+00AD, the
 *   invisible operators U+2061-U+2064 and the tag characters U+E0000-U+E007F hide inside a name, so
 *   that two different names look identical and a search for one misses the other (tags also carry
 *   text a person cannot see but a language model reads). No client needs them in a name.
 * - Cs, a lone surrogate: not text, and not storable as UTF-8.
 *
 * Two format characters are kept: the zero-width non-joiner U+200C and joiner U+200D, which
 * Persian, the Indic scripts and emoji sequences need in order to be spelled at all; refusing them
 * would refuse real names, and they reorder nothing. Look-alike letters (Cyrillic а for a) stay
 * possible, as in any name: the consent page shows the hosts a person can check.
 */
const UNSAFE_TEXT_CHARACTER = /(?![\u200C\u200D])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

function unsafeCharacter(value: string): string | undefined {
  const found = UNSAFE_TEXT_CHARACTER.exec(value)?.[0];
  return found === undefined
    ? undefined
    : `U+${(found.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
}

const safeText = v.check(
  (value: string) => unsafeCharacter(value) === undefined,
  (issue) =>
    `must not contain control or bidirectional-formatting characters, nor other invisible formatting characters (found ${unsafeCharacter(issue.input)})`,
);

const text = (max: number) =>
  v.optional(v.pipe(v.string('must be a string'), v.maxLength(max, `must be at most ${max} characters`), safeText));

const httpsUri = v.optional(
  v.pipe(
    v.string('must be a string'),
    v.maxLength(METADATA_LIMITS.uri, `must be at most ${METADATA_LIMITS.uri} characters`),
    safeText,
    v.check(
      (uri) => URL.canParse(uri) && new URL(uri).protocol === 'https:' && !uri.includes('#'),
      'must be an https URL without a fragment',
    ),
  ),
);

/**
 * The redirect URIs, each allowed by the policy: at least one for a client that uses /authorize,
 * none needed (an empty list, or the field left out) for one that does not.
 */
function redirectUrisSchema(policy: RedirectUriPolicy, required: boolean) {
  const uris = v.array(
    v.pipe(
      v.unknown(),
      v.check(
        (uri) => redirectUriProblem(uri, policy) === undefined,
        (issue) => redirectUriProblem(issue.input, policy) ?? 'is not allowed',
      ),
      v.transform((uri) => uri as string),
    ),
    'must be an array of strings',
  );
  const most = `must contain at most ${REDIRECT_URI_LIMITS.maxCount} redirect URIs`;
  return required
    ? v.pipe(
        uris,
        v.minLength(1, 'must contain at least one redirect URI'),
        v.maxLength(REDIRECT_URI_LIMITS.maxCount, most),
      )
    : v.optional(v.pipe(uris, v.maxLength(REDIRECT_URI_LIMITS.maxCount, most)), []);
}

/**
 * The grants a client may register that obtain tokens without another token: the browser flow,
 * or a machine client's own credentials (RFC 6749 4.4). A client needs one of them.
 */
const AUTHORIZATION_GRANTS: readonly GrantType[] = ['authorization_code', 'client_credentials'];

/**
 * A client that registers grant_types without authorization_code never visits /authorize: a
 * machine client (client_credentials) has no redirect URI, and may send none (RFC 7591 2:
 * redirect_uris is for redirect-based flows). Decided on the raw body, before validation.
 */
function withoutBrowserFlow(input: Record<string, unknown>): boolean {
  return Array.isArray(input.grant_types) && !input.grant_types.includes('authorization_code');
}

function metadataSchema(policy: RedirectUriPolicy, redirectUrisRequired: boolean) {
  return v.object({
    redirect_uris: redirectUrisSchema(policy, redirectUrisRequired),
    token_endpoint_auth_method: v.optional(
      v.picklist(TOKEN_ENDPOINT_AUTH_METHODS, `must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`),
      'client_secret_basic',
    ),
    grant_types: v.optional(
      v.pipe(
        v.array(v.string('must contain only strings'), 'must be an array of strings'),
        v.maxLength(METADATA_LIMITS.grantTypes, `must contain at most ${METADATA_LIMITS.grantTypes} entries`),
        v.transform((types) => GRANT_TYPES.filter((supported) => types.includes(supported))),
        v.check(
          (types) => types.some((type) => AUTHORIZATION_GRANTS.includes(type)),
          'must include authorization_code or client_credentials, the authorization grants this server supports',
        ),
      ),
      ['authorization_code'],
    ),
    response_types: v.optional(
      v.pipe(
        v.array(v.string('must contain only strings'), 'must be an array of strings'),
        v.check(
          (types) => types.length > 0 && types.every((type) => type === 'code'),
          'must be ["code"]: only the authorization code flow is supported',
        ),
        v.transform((): ['code'] => ['code']),
      ),
      ['code'],
    ),
    client_name: text(METADATA_LIMITS.text),
    client_uri: httpsUri,
    logo_uri: httpsUri,
    tos_uri: httpsUri,
    policy_uri: httpsUri,
    contacts: v.optional(
      v.pipe(
        v.array(
          v.pipe(
            v.string('must contain only strings'),
            v.maxLength(METADATA_LIMITS.contact, `entries must be at most ${METADATA_LIMITS.contact} characters`),
            safeText,
          ),
          'must be an array of strings',
        ),
        v.maxLength(METADATA_LIMITS.contacts, `must contain at most ${METADATA_LIMITS.contacts} entries`),
      ),
    ),
    scope: v.optional(
      v.pipe(
        v.string('must be a string'),
        v.maxLength(METADATA_LIMITS.scope, `must be at most ${METADATA_LIMITS.scope} characters`),
        safeText,
      ),
    ),
    software_id: text(METADATA_LIMITS.text),
    software_version: text(METADATA_LIMITS.text),
    application_type: v.optional(v.picklist(APPLICATION_TYPES, 'must be "web" or "native"')),
  });
}

function describePath(issue: v.BaseIssue<unknown>): string {
  const keys = issue.path?.map((item) => item.key) ?? [];
  return keys
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join('');
}

/** Drops keys sent as null: RFC 7591 optional fields sent as null count as absent. */
function withoutNulls(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
}

/**
 * The redirect URIs a client's application_type forbids (redirect-uri-policy.ts decides which),
 * checked once the whole body is known. The description names the URI, which the policy has
 * already held to URI characters, and the rule.
 */
function applicationTypeRefusal(metadata: ClientMetadata, policy: RedirectUriPolicy): OAuthError | undefined {
  if (metadata.application_type === undefined) return undefined;
  for (const [index, uri] of metadata.redirect_uris.entries()) {
    const problem = redirectUriProblem(uri, policy, metadata.application_type);
    if (problem) return new OAuthError('invalid_redirect_uri', `redirect_uris[${index}] ${uri} ${problem}`);
  }
  return undefined;
}

/**
 * Why `uri` cannot be a jwks_uri, or undefined. https, or http on 127.0.0.1/localhost: the fetcher
 * (cimd/safe-fetch.ts) refuses the latter unless the development switch is on, as for documents.
 */
function jwksUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return 'must be a string';
  if (uri.length > METADATA_LIMITS.uri) return `must be at most ${METADATA_LIMITS.uri} characters`;
  if (unsafeCharacter(uri) !== undefined || !URL.canParse(uri)) return 'must be a URL';
  const url = new URL(uri);
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HTTP_HOSTS.includes(url.hostname);
  if ((url.protocol !== 'https:' && !loopbackHttp) || uri.includes('#') || url.username || url.password) {
    return 'must be an https URL without a fragment or user information';
  }
  return undefined;
}

/**
 * The key material of a private_key_jwt client (RFC 7591 2: `jwks` or `jwks_uri`, never both),
 * checked once the method is known. Other clients' jwks, jwks_uri and signing alg are dropped,
 * like any field this server does not use.
 */
function keyMaterial(
  input: Record<string, unknown>,
  metadata: ClientMetadata,
): { error: OAuthError } | { fields: Pick<ClientMetadata, 'jwks' | 'jwks_uri' | 'token_endpoint_auth_signing_alg'> } {
  if (metadata.token_endpoint_auth_method !== 'private_key_jwt') return { fields: {} };
  const invalid = (description: string) => ({ error: new OAuthError('invalid_client_metadata', description) });
  const { jwks, jwks_uri: uri, token_endpoint_auth_signing_alg: alg } = input;
  if (jwks !== undefined && uri !== undefined) return invalid('jwks and jwks_uri must not both be present');
  if (jwks === undefined && uri === undefined) {
    return invalid('token_endpoint_auth_method private_key_jwt requires jwks or jwks_uri');
  }
  if (alg !== undefined && !(CLIENT_ASSERTION_SIGNING_ALGS as readonly unknown[]).includes(alg)) {
    return invalid(`token_endpoint_auth_signing_alg must be one of ${CLIENT_ASSERTION_SIGNING_ALGS.join(', ')}`);
  }
  const algField = alg === undefined ? {} : { token_endpoint_auth_signing_alg: alg as ClientAssertionSigningAlg };
  if (jwks !== undefined) {
    const problem = jwksProblem(jwks);
    if (problem) return invalid(`jwks ${problem}`);
    return { fields: { jwks: jwks as ClientJwks, ...algField } };
  }
  const problem = jwksUriProblem(uri);
  if (problem) return invalid(`jwks_uri ${problem}`);
  return { fields: { jwks_uri: uri as string, ...algField } };
}

/**
 * RFC 6749 4.4: client_credentials is for confidential clients. A public client's is dropped
 * like any grant this server will not give it; a public client left with no authorization grant
 * at all is refused, naming the rule.
 */
function publicClientGrants(metadata: ClientMetadata): { error: OAuthError } | { grant_types: GrantType[] } {
  if (isConfidential(metadata) || !metadata.grant_types.includes('client_credentials')) {
    return { grant_types: metadata.grant_types };
  }
  const kept = metadata.grant_types.filter((type) => type !== 'client_credentials');
  if (!kept.includes('authorization_code')) {
    return {
      error: new OAuthError(
        'invalid_client_metadata',
        'grant_types client_credentials requires a confidential client: token_endpoint_auth_method must not be none',
      ),
    };
  }
  return { grant_types: kept };
}

export type MetadataResult = { ok: true; metadata: ClientMetadata } | { ok: false; error: OAuthError };

/** Builds the validator once per policy; call the returned function per request. */
export function clientMetadataValidator(policy: RedirectUriPolicy = DEFAULT_REDIRECT_URI_POLICY) {
  const schema = metadataSchema(policy, true);
  const machineSchema = metadataSchema(policy, false);
  return (body: unknown): MetadataResult => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return {
        ok: false,
        error: new OAuthError('invalid_client_metadata', 'The request body must be a JSON object.'),
      };
    }
    const input = withoutNulls(body as Record<string, unknown>);
    const browserFlow = !withoutBrowserFlow(input);
    if (browserFlow && input.redirect_uris === undefined) {
      return {
        ok: false,
        error: new OAuthError('invalid_redirect_uri', 'redirect_uris is required'),
      };
    }
    const result = v.safeParse(browserFlow ? schema : machineSchema, input, { abortEarly: true });
    if (result.success) {
      const parsed = Object.fromEntries(
        Object.entries(result.output).filter(([, value]) => value !== undefined),
      ) as unknown as ClientMetadata;
      const grants = publicClientGrants(parsed);
      if ('error' in grants) return { ok: false, error: grants.error };
      const metadata = { ...parsed, grant_types: grants.grant_types };
      const refused = applicationTypeRefusal(metadata, policy);
      if (refused) return { ok: false, error: refused };
      const keys = keyMaterial(input, metadata);
      return 'error' in keys
        ? { ok: false, error: keys.error }
        : { ok: true, metadata: { ...metadata, ...keys.fields } };
    }
    const issue = result.issues[0];
    const field = describePath(issue);
    const code = field.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata';
    return { ok: false, error: new OAuthError(code, `${field} ${issue.message}`) };
  };
}
