/**
 * RFC 7591 client metadata rules: turn any parsed JSON body into the metadata that will be
 * registered, or a named OAuth error (`invalid_redirect_uri` or `invalid_client_metadata`)
 * whose description names the field and the rule it broke.
 */
import * as v from 'valibot';
import {
  GRANT_TYPES,
  type GrantType,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type TokenEndpointAuthMethod,
} from '../contract/capabilities.js';
import { DEFAULT_REDIRECT_URI_POLICY, type RedirectUriPolicy } from '../contract/settings.js';
import { OAuthError } from './oauth-error.js';
import { REDIRECT_URI_LIMITS, redirectUriProblem } from './redirect-uri-policy.js';

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
  application_type?: 'web' | 'native';
}

export function isConfidential(metadata: Pick<ClientMetadata, 'token_endpoint_auth_method'>): boolean {
  return metadata.token_endpoint_auth_method !== 'none';
}

const text = (max: number) =>
  v.optional(v.pipe(v.string('must be a string'), v.maxLength(max, `must be at most ${max} characters`)));

const httpsUri = v.optional(
  v.pipe(
    v.string('must be a string'),
    v.maxLength(METADATA_LIMITS.uri, `must be at most ${METADATA_LIMITS.uri} characters`),
    v.check(
      (uri) => URL.canParse(uri) && new URL(uri).protocol === 'https:' && !uri.includes('#'),
      'must be an https URL without a fragment',
    ),
  ),
);

function metadataSchema(policy: RedirectUriPolicy) {
  return v.object({
    redirect_uris: v.pipe(
      v.array(
        v.pipe(
          v.unknown(),
          v.check(
            (uri) => redirectUriProblem(uri, policy) === undefined,
            (issue) => redirectUriProblem(issue.input, policy) ?? 'is not allowed',
          ),
          v.transform((uri) => uri as string),
        ),
        'must be an array of strings',
      ),
      v.minLength(1, 'must contain at least one redirect URI'),
      v.maxLength(REDIRECT_URI_LIMITS.maxCount, `must contain at most ${REDIRECT_URI_LIMITS.maxCount} redirect URIs`),
    ),
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
          (types) => types.includes('authorization_code'),
          'must include authorization_code, the only authorization grant this server supports',
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
      ),
    ),
    software_id: text(METADATA_LIMITS.text),
    software_version: text(METADATA_LIMITS.text),
    application_type: v.optional(v.picklist(['web', 'native'], 'must be "web" or "native"')),
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

export type MetadataResult = { ok: true; metadata: ClientMetadata } | { ok: false; error: OAuthError };

/** Builds the validator once per policy; call the returned function per request. */
export function clientMetadataValidator(policy: RedirectUriPolicy = DEFAULT_REDIRECT_URI_POLICY) {
  const schema = metadataSchema(policy);
  return (body: unknown): MetadataResult => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return {
        ok: false,
        error: new OAuthError('invalid_client_metadata', 'The request body must be a JSON object.'),
      };
    }
    const input = withoutNulls(body as Record<string, unknown>);
    if (input.redirect_uris === undefined) {
      return {
        ok: false,
        error: new OAuthError('invalid_redirect_uri', 'redirect_uris is required'),
      };
    }
    const result = v.safeParse(schema, input, { abortEarly: true });
    if (result.success) {
      const metadata = Object.fromEntries(
        Object.entries(result.output).filter(([, value]) => value !== undefined),
      ) as unknown as ClientMetadata;
      return { ok: true, metadata };
    }
    const issue = result.issues[0];
    const field = describePath(issue);
    const code = field.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata';
    return { ok: false, error: new OAuthError(code, `${field} ${issue.message}`) };
  };
}
