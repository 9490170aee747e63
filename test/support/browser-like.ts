/**
 * Just enough of a browser to walk an OAuth sign-in with `fetch`: a cookie jar, redirect
 * following that can stop before leaving for a given URL (say, a redirect URI nobody listens
 * on), and HTML forms parsed with regular expressions and submitted like a browser would.
 * Meant for pages we control (oidc-provider's dev interactions, the gateway's own pages), not
 * for arbitrary HTML: no JavaScript, no <select>/<textarea>, no meta refresh.
 *
 * Typical use:
 *   const jar = new CookieJar();
 *   let page = await followRedirects(startUrl, jar, { stopAt: isCallback });
 *   while (page.kind === 'page') {
 *     const [form] = parseForms(page.body, page.url);
 *     page = await submitForm(form, { login: 'alice', password: 'x' }, jar, { stopAt: isCallback });
 *   }
 *   // page.url is now the callback URL, with code and state, never requested.
 */

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  expiresAt: number;
}

/**
 * Cookies per origin (scheme, host and port; a Domain attribute is ignored, so cookies are
 * host-only), honouring Path, Max-Age and Expires. Secure cookies are stored and sent over
 * http too, as browsers do for localhost; SameSite is ignored, as for top-level navigation.
 */
export class CookieJar {
  readonly #origins = new Map<string, Map<string, StoredCookie>>();

  /** Stores the Set-Cookie headers of a response to `url`; a cookie already expired deletes. */
  store(url: URL, response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const cookie: StoredCookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        path: defaultPath(url),
        expiresAt: Infinity,
      };
      let maxAgeSeen = false;
      for (const attribute of attributes) {
        const [rawKey, ...rest] = attribute.split('=');
        const key = rawKey.trim().toLowerCase();
        const value = rest.join('=').trim();
        if (key === 'path' && value.startsWith('/')) cookie.path = value;
        else if (key === 'max-age' && /^-?\d+$/.test(value)) {
          maxAgeSeen = true;
          cookie.expiresAt = Date.now() + Number(value) * 1000;
        } else if (key === 'expires' && !maxAgeSeen) {
          const time = Date.parse(value);
          if (!Number.isNaN(time)) cookie.expiresAt = time;
        }
      }
      const cookies = this.#origins.get(url.origin) ?? new Map<string, StoredCookie>();
      this.#origins.set(url.origin, cookies);
      const key = `${cookie.name};${cookie.path}`;
      if (cookie.expiresAt <= Date.now()) cookies.delete(key);
      else cookies.set(key, cookie);
    }
  }

  /** The Cookie header a browser would send to `url`, or undefined when there is none. */
  header(url: URL): string | undefined {
    const now = Date.now();
    const matching = [...(this.#origins.get(url.origin)?.values() ?? [])]
      .filter((cookie) => cookie.expiresAt > now && pathMatches(url.pathname, cookie.path))
      // Longer paths first, as RFC 6265 §5.4 asks.
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') : undefined;
  }

  /** Names of the cookies held for an origin, for assertions. */
  names(origin: string): string[] {
    return [...(this.#origins.get(origin)?.values() ?? [])].map((cookie) => cookie.name);
  }
}

function defaultPath(url: URL): string {
  const slash = url.pathname.lastIndexOf('/');
  return slash <= 0 ? '/' : url.pathname.slice(0, slash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/**
 * Where a walk ended: either at a URL that `stopAt` matched (never requested, so a redirect
 * URI needs no server), or at a response that is not a redirect, with its body read.
 */
export type Landing = { kind: 'stopped'; url: URL } | { kind: 'page'; url: URL; response: Response; body: string };

export interface FollowOptions {
  /** Checked for the first URL and every redirect target; a match ends the walk unrequested. */
  stopAt?: (url: URL) => boolean;
  /** Redirects allowed before giving up; default 20, as browsers do. */
  maxRedirects?: number;
}

/** GETs `url` and follows redirects (301, 302, 303, 307, 308) with the jar's cookies. */
export async function followRedirects(
  url: URL | string,
  jar: CookieJar,
  options: FollowOptions = {},
): Promise<Landing> {
  return walk(new URL(url), { method: 'GET' }, jar, options);
}

async function walk(start: URL, init: RequestInit, jar: CookieJar, options: FollowOptions): Promise<Landing> {
  const stopAt = options.stopAt ?? (() => false);
  const maxRedirects = options.maxRedirects ?? 20;
  let url = start;
  let request = init;
  for (let redirects = 0; ; redirects++) {
    if (stopAt(url)) return { kind: 'stopped', url };
    const headers = new Headers(request.headers);
    const cookie = jar.header(url);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...request, headers, redirect: 'manual' });
    jar.store(url, response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || response.status === 304 || !location)
      return { kind: 'page', url, response, body: await response.text() };
    await response.body?.cancel();
    if (redirects >= maxRedirects) throw new Error(`more than ${maxRedirects} redirects, last to ${location}`);
    url = new URL(location, url);
    // 307 and 308 repeat the request as it was; the others turn it into a GET, as browsers do.
    if (response.status !== 307 && response.status !== 308) request = { method: 'GET' };
  }
}

export interface HtmlForm {
  /** Absolute when a page URL was given to parseForms or the action was absolute already. */
  action: string;
  /** Upper case: 'GET' or 'POST'. */
  method: string;
  /** Named inputs a browser would submit unchanged: hidden, text and the like, checked boxes. */
  fields: Record<string, string>;
  /** Every named input, in order, including empty ones the person is expected to fill in. */
  inputs: Array<{ name: string; type: string; value: string }>;
  /** The page's origin when parseForms was given its URL; sent as Origin on POST, as browsers do. */
  origin?: string;
}

/**
 * The forms in a page, in order. `pageUrl` resolves relative actions (a missing action means
 * the page itself). Attribute values have HTML entities decoded.
 */
export function parseForms(html: string, pageUrl?: URL | string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form\s*>/gi)) {
    const attributes = parseAttributes(match[1]);
    const rawAction = attributes.action ?? '';
    const action = pageUrl ? new URL(rawAction, pageUrl).href : rawAction;
    const inputs: HtmlForm['inputs'] = [];
    const fields: Record<string, string> = {};
    for (const inputMatch of match[2].matchAll(/<input\b([^>]*)>/gi)) {
      const input = parseAttributes(inputMatch[1]);
      if (input.name === undefined) continue;
      const type = (input.type ?? 'text').toLowerCase();
      const value = input.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : '');
      inputs.push({ name: input.name, type, value });
      if (['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
      if ((type === 'checkbox' || type === 'radio') && !('checked' in input)) continue;
      fields[input.name] = value;
    }
    const method = (attributes.method ?? 'GET').toUpperCase();
    forms.push({ action, method, fields, inputs, ...(pageUrl ? { origin: new URL(pageUrl).origin } : {}) });
  }
  return forms;
}

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of source.matchAll(/([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    attributes[match[1].toLowerCase()] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return attributes;
}

function decodeEntities(value: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, body: string) => {
    if (body[0] !== '#') return named[body.toLowerCase()] ?? entity;
    return String.fromCodePoint(
      body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : Number(body.slice(1)),
    );
  });
}

/**
 * Submits a form with its fields plus `overrides` (which win), form-urlencoded for POST or in
 * the query for GET, then follows redirects like followRedirects. The action must be absolute.
 */
export async function submitForm(
  form: HtmlForm,
  overrides: Record<string, string>,
  jar: CookieJar,
  options: FollowOptions = {},
): Promise<Landing> {
  const values = new URLSearchParams({ ...form.fields, ...overrides });
  const action = new URL(form.action);
  if (form.method === 'GET') {
    action.search = values.toString();
    return walk(action, { method: 'GET' }, jar, options);
  }
  return walk(
    action,
    {
      method: form.method,
      body: values.toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(form.origin ? { origin: form.origin } : {}),
      },
    },
    jar,
    options,
  );
}
