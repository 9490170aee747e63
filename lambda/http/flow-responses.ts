/** Renders the authorization flow's outcomes as API Gateway proxy results. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ConsentView, FlowOutcome } from '../domain/authorization-flow.js';
import { escapeHtml, PAGE_HEADERS, page } from './html.js';
import { NO_STORE_HEADERS } from './responses.js';

function consentPage(view: ConsentView): string {
  const name = escapeHtml(view.clientName);
  const uri = view.clientUri ? ` (<code>${escapeHtml(view.clientUri)}</code>)` : '';
  const scope = view.scope
    ? `<p>It asks for: <code>${escapeHtml(view.scope)}</code>.</p>`
    : '<p>It asks for access to the MCP server on your behalf.</p>';
  // One form; the first submit button goes forward, so pressing Enter approves. No script.
  return page(
    `Allow ${view.clientName}?`,
    `<h1>Allow <strong>${name}</strong> to connect?</h1>
<p>The application <strong>${name}</strong>${uri} wants to connect to this MCP server.</p>
${scope}
<p>After you sign in you will be sent back to <strong>${escapeHtml(view.returnTo)}</strong>.</p>
<p>The name above is chosen by the application itself. Continue only if you started this connection.</p>
<form method="post" action="${escapeHtml(view.formAction)}">
<input type="hidden" name="request" value="${escapeHtml(view.requestId)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">
<button type="submit" name="decision" value="allow">Allow and sign in</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function renderFlowOutcome(outcome: FlowOutcome): APIGatewayProxyResult {
  switch (outcome.kind) {
    case 'redirect':
      return {
        statusCode: outcome.status,
        headers: { Location: outcome.location, ...NO_STORE_HEADERS, 'Referrer-Policy': 'no-referrer' },
        multiValueHeaders: { 'Set-Cookie': outcome.cookies },
        body: '',
      };
    case 'consent':
      return {
        statusCode: 200,
        headers: { ...PAGE_HEADERS },
        multiValueHeaders: { 'Set-Cookie': outcome.cookies },
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
