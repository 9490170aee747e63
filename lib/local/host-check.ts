/**
 * DNS rebinding protection for local mode (MCP transports: servers on localhost MUST validate
 * the request's origin). A page on attacker.example whose name is re-pointed at 127.0.0.1 can
 * reach this port, but its requests still carry `Host: attacker.example:<port>`; only the
 * names this gateway answers to are accepted: 127.0.0.1:<port>, localhost:<port>, and the
 * configured issuer's host. Origin itself is not restricted (see gateway.ts): tokens travel in
 * the Authorization header, never in cookies, so a cross-origin page has nothing ambient to use.
 */
import type { GatewayReply } from './response-templates.js';

/** The Host values the local gateway answers to, lowercased. */
export function ownHosts(port: number, issuer: string): Set<string> {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const issuerUrl = new URL(issuer);
  hosts.add(issuerUrl.host.toLowerCase());
  // The issuer's host with the scheme's default port spelt out is the same authority.
  if (!issuerUrl.port) hosts.add(`${issuerUrl.hostname.toLowerCase()}:${issuerUrl.protocol === 'https:' ? 443 : 80}`);
  return hosts;
}

/** undefined when the Host is one of ours; otherwise the 421 to answer. */
export function refuseForeignHost(
  allowed: ReadonlySet<string>,
  host: readonly string[] | undefined,
): GatewayReply | undefined {
  const value = host?.length === 1 ? host[0].toLowerCase() : undefined;
  if (value !== undefined && allowed.has(value)) return undefined;
  const shown = host === undefined || host.length === 0 ? 'no Host header' : `Host ${JSON.stringify(host.join(', '))}`;
  return {
    // RFC 9110 §15.5.20: this server is not willing to answer for that authority.
    statusCode: 421,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: Buffer.from(
      JSON.stringify({
        error: 'invalid_request',
        error_description: `This local gateway answers only to ${[...allowed].join(', ')}; the request has ${shown} (DNS rebinding protection).`,
      }),
    ),
  };
}
