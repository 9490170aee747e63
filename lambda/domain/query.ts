/**
 * Query parameters as API Gateway REST events carry them. RFC 6749 section 3.1: request
 * parameters must not appear more than once, and a repeated one is refused outright, since
 * the gateway's authorizer and a backend could otherwise read different copies.
 */
import { OAuthError } from './oauth-error.js';

export type MultiValueQuery = Readonly<Record<string, readonly string[] | undefined>> | null | undefined;
export type SingleValueQuery = Readonly<Record<string, string | undefined>> | null | undefined;

export type QueryResult = { ok: true; params: Record<string, string> } | { ok: false; repeated: string };

/** Flattens the query, refusing any repeated parameter. */
export function singleValuedQuery(multi: MultiValueQuery, single: SingleValueQuery): QueryResult {
  // No prototype: a parameter named __proto__ or constructor is just a parameter.
  const params: Record<string, string> = Object.create(null);
  if (multi) {
    for (const [name, values] of Object.entries(multi)) {
      if (!values || values.length === 0) continue;
      if (values.length > 1) return { ok: false, repeated: name };
      params[name] = values[0];
    }
    return { ok: true, params };
  }
  for (const [name, value] of Object.entries(single ?? {})) {
    if (value !== undefined) params[name] = value;
  }
  return { ok: true, params };
}

/** Flattens a parsed form (repeated fields arrive as arrays), refusing any repeated parameter. */
export function singleValuedForm(
  form: Readonly<Record<string, string | readonly string[] | undefined>> | null,
): QueryResult {
  const multi: Record<string, readonly string[]> = Object.create(null);
  for (const [name, value] of Object.entries(form ?? {})) {
    if (value !== undefined) multi[name] = typeof value === 'string' ? [value] : value;
  }
  return singleValuedQuery(multi, null);
}

/** The one error for a repeated parameter (RFC 6749 sections 3.1 and 3.2), naming it. */
export function repeatedParameterError(name: string): OAuthError {
  return new OAuthError('invalid_request', `${name} appears more than once.`);
}

/** The parameters of a flattened query or form; a repeated one throws repeatedParameterError. */
export function singleParams(result: QueryResult): Record<string, string> {
  if (!result.ok) throw repeatedParameterError(result.repeated);
  return result.params;
}
