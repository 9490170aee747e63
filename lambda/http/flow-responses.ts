/** Renders the authorization flow's outcomes as API Gateway proxy results. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { AccountOutcome, AccountView } from '../domain/account.js';
import type { ConsentView, FlowOutcome } from '../domain/authorization-flow.js';
import { browserCookies, type CookieSettings } from './cookies.js';
import { escapeHtml, PAGE_HEADERS, page } from './html.js';
import { logger } from './powertools.js';
import { NO_STORE_HEADERS } from './responses.js';

/** Text the client chose, isolated so that its direction cannot reorder the sentence around it. */
const clientText = (text: string) => `<bdi>${escapeHtml(text)}</bdi>`;

function consentPage(view: ConsentView): string {
  const name = view.clientName ? `<strong>${clientText(view.clientName)}</strong>` : 'An unnamed application';
  const title = view.clientName ? `Allow ${view.clientName} to connect?` : 'Allow an unnamed application to connect?';
  const identity = view.clientIdHost
    ? `The name is chosen by the application; <strong>${escapeHtml(view.clientIdHost)}</strong> publishes its description.`
    : view.clientName
      ? 'The name is chosen by the application itself.'
      : `It registered without a name; its client ID is <code>${clientText(view.clientId)}</code>.`;
  const uri = view.clientUri ? ` (<code>${clientText(view.clientUri)}</code>)` : '';
  const scopes =
    view.scopes.length > 0
      ? `<p>It asks for:</p>\n<ul>${view.scopes.map((scope) => `<li><code>${clientText(scope)}</code></li>`).join('')}</ul>\n`
      : '';
  const loopback = view.loopbackOnly
    ? '<p><strong>Warning:</strong> this application returns only to addresses on this computer (loopback): any program running on it could receive the result.</p>\n'
    : '';
  // One form whose first submit button approves: it is the form's default button. Nothing is
  // focused on load, so no single stray keypress approves.
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>${name}${uri} wants to use <strong>${escapeHtml(view.serverName)}</strong> on your behalf.</p>
${scopes}<p>After you sign in you will be sent back to <strong>${clientText(view.returnTo)}</strong>.</p>
${loopback}<p>${identity} Continue only if you started this connection yourself.</p>
<form method="post" action="${escapeHtml(view.formAction)}">
<input type="hidden" name="request" value="${escapeHtml(view.requestId)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">
<button type="submit" name="decision" value="allow" class="primary">Allow and sign in</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function renderFlowOutcome(outcome: FlowOutcome, cookies: CookieSettings): APIGatewayProxyResult {
  switch (outcome.kind) {
    case 'redirect':
      if (outcome.failure !== undefined) {
        logger.error('sign-in could not be completed; the client was sent temporarily_unavailable', {
          error: outcome.failure as Error,
        });
      }
      return {
        statusCode: outcome.status,
        headers: { Location: outcome.location, ...NO_STORE_HEADERS, 'Referrer-Policy': 'no-referrer' },
        multiValueHeaders: { 'Set-Cookie': browserCookies(cookies, outcome.browser) },
        body: '',
      };
    case 'consent':
      return {
        statusCode: 200,
        // same-origin: the form's POST then carries this origin in Origin (no-referrer makes it `null`).
        headers: { ...PAGE_HEADERS, 'Referrer-Policy': 'same-origin' },
        multiValueHeaders: { 'Set-Cookie': browserCookies(cookies, outcome.browser) },
        body: consentPage(outcome.view),
      };
    case 'error-page':
      if (outcome.failure !== undefined) {
        logger.error('sign-in could not be completed', { error: outcome.failure as Error });
      }
      return {
        statusCode: outcome.status,
        headers: { ...PAGE_HEADERS },
        body: page(
          outcome.title,
          `<h1>${escapeHtml(outcome.title)}</h1>\n<p>${clientText(outcome.message)}</p>` +
            (outcome.link
              ? `\n<p><a href="${escapeHtml(outcome.link.href)}" rel="noreferrer">${escapeHtml(outcome.link.label)}</a></p>`
              : ''),
        ),
      };
  }
}

/** A time as people read it, in UTC (the page has no script to know their zone). */
const when = (seconds: number) => `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function accountPage(view: AccountView): string {
  const title = 'Connected apps';
  if (view.apps.length === 0) {
    return page(title, `<h1>${title}</h1>\n<p>No app has access to your account.</p>`);
  }
  const apps = view.apps
    .map((app) => {
      const name = app.name
        ? clientText(app.name)
        : `An unnamed application (<code>${clientText(app.clientId)}</code>)`;
      const host = app.host ? ` <span>(${clientText(app.host)})</span>` : '';
      const scopes =
        app.scopes.length > 0
          ? `<br>Can use: ${app.scopes.map((scope) => `<code>${escapeHtml(scope)}</code>`).join(', ')}`
          : '';
      return `<li><strong>${name}</strong>${host}${scopes}<br>Last used ${escapeHtml(when(app.lastUsed))}
<form method="post" action="${escapeHtml(view.formAction)}">
<input type="hidden" name="client" value="${escapeHtml(app.clientId)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">
<button type="submit">Remove access</button>
</form></li>`;
    })
    .join('\n');
  return page(
    title,
    `<h1>${title}</h1>
<p>These apps can act on your behalf. Removing one signs it out at once; it must ask you again to reconnect.</p>
<ul>
${apps}
</ul>`,
  );
}

/** The connected apps page, or any other outcome of the account endpoints. */
export function renderAccountOutcome(outcome: AccountOutcome, cookies: CookieSettings): APIGatewayProxyResult {
  if (outcome.kind !== 'account') return renderFlowOutcome(outcome, cookies);
  return {
    statusCode: 200,
    // same-origin: the page's forms then carry this origin in Origin, as the consent form's.
    headers: { ...PAGE_HEADERS, 'Referrer-Policy': 'same-origin' },
    multiValueHeaders: { 'Set-Cookie': browserCookies(cookies, outcome.browser) },
    body: accountPage(outcome.view),
  };
}
