/** Renders the authorization flow's outcomes as API Gateway proxy results. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ConsentView, FlowOutcome } from '../domain/authorization-flow.js';
import { browserCookies, type CookieSettings } from './cookies.js';
import { escapeHtml, PAGE_HEADERS, page } from './html.js';
import { logger } from './powertools.js';
import { NO_STORE_HEADERS } from './responses.js';

function consentPage(view: ConsentView): string {
  const name = view.clientName ? `<strong>${escapeHtml(view.clientName)}</strong>` : 'An unnamed application';
  const title = view.clientName ? `Allow ${view.clientName} to connect?` : 'Allow an unnamed application to connect?';
  const identity = view.clientName
    ? 'The name is chosen by the application itself.'
    : `It registered without a name; its client ID is <code>${escapeHtml(view.clientId)}</code>.`;
  const uri = view.clientUri ? ` (<code>${escapeHtml(view.clientUri)}</code>)` : '';
  const scope = view.scope ? `<p>It asks for: <code>${escapeHtml(view.scope)}</code>.</p>\n` : '';
  // One form whose first submit button approves: it is the form's default button. Nothing is
  // focused on load, so no single stray keypress approves.
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>${name}${uri} wants to use <strong>${escapeHtml(view.serverName)}</strong> on your behalf.</p>
${scope}<p>After you sign in you will be sent back to <strong>${escapeHtml(view.returnTo)}</strong>.</p>
<p>${identity} Continue only if you started this connection yourself.</p>
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
        headers: { ...PAGE_HEADERS },
        multiValueHeaders: { 'Set-Cookie': browserCookies(cookies, outcome.browser) },
        body: consentPage(outcome.view),
      };
    case 'error-page':
      return {
        statusCode: outcome.status,
        headers: { ...PAGE_HEADERS },
        body: page(outcome.title, `<h1>${escapeHtml(outcome.title)}</h1>\n<p>${escapeHtml(outcome.message)}</p>`),
      };
  }
}
