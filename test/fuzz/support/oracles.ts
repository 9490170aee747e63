/**
 * Requests, and the properties every response has whatever was sent:
 *
 * - the server never answers 5xx and never dies (a health request still gets 200 afterwards);
 * - every 4xx with a JSON content type carries a string `error` (the MCP endpoint may answer
 *   with a JSON-RPC error object instead, as the MCP transport specification has it);
 * - no response carries a stack trace (`at ` followed by a path) or mentions node_modules.
 *
 * exchange() sends one request, checks these and a suite's own oracle (`extra`), and counts the
 * status, so that each suite can print what its generators reached (useFuzzSession).
 */
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import type { Json, Method } from './arbitraries.js';
import { server } from './server.js';

export interface FuzzRequest {
  method: Method;
  /** Path and query, appended to the server's origin as they are (fetch normalizes dot segments). */
  target: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
}

export interface Observed {
  status: number;
  headers: Headers;
  text: string;
}

export async function send(req: FuzzRequest): Promise<Observed> {
  const headers = new Headers();
  for (const [name, value] of req.headers) headers.append(name, value);
  const hasBody = req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
  const res = await fetch(`${server.url}${req.target}`, {
    method: req.method,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(20_000),
    ...(hasBody ? { body: req.body } : {}),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A description precise enough to replay the request by hand. */
export function repro(req: FuzzRequest): string {
  const lines = [`${req.method} ${server.url}${req.target}`];
  for (const [name, value] of req.headers) lines.push(`  ${name}: ${JSON.stringify(value)}`);
  if (req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD') {
    const text = req.body.toString('utf8');
    const exact = Buffer.from(text, 'utf8').equals(req.body);
    const shown = exact ? JSON.stringify(text) : `base64:${req.body.toString('base64')}`;
    lines.push(
      `  body (${req.body.length} bytes${exact ? '' : ', not UTF-8'}): ${shown.length > 3000 ? `${shown.slice(0, 3000)}… (truncated)` : shown}`,
    );
  }
  return lines.join('\n');
}

const JSON_TYPE = /^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/** A V8 stack frame: `at fn (/path…`, `at /path…`, `at file:///…`, `at node:internal…`. */
const STACK_FRAME = /\bat\s+(?:[^\s()]+\s+\()?(?:\/|file:\/\/|node:|[A-Za-z]:\\)/g;

/** Texts the server may legitimately echo: stored client metadata, from any earlier request. */
export const echoable: string[] = [];

function sentText(req: FuzzRequest): string {
  let decodedTarget = req.target;
  try {
    decodedTarget = decodeURIComponent(req.target.replace(/\+/g, ' '));
  } catch {
    // Not decodable as a whole: the raw target is what can be echoed.
  }
  return [req.target, decodedTarget, ...req.headers.map(([, value]) => value), req.body?.toString('utf8') ?? ''].join(
    '\n',
  );
}

function stackTraceIn(text: string, req: FuzzRequest): string | undefined {
  const sent = sentText(req);
  const echoed = (fragment: string) => sent.includes(fragment) || echoable.some((item) => item.includes(fragment));
  if (text.includes('node_modules') && !echoed('node_modules')) return 'node_modules';
  for (const match of text.matchAll(STACK_FRAME)) if (!echoed(match[0])) return match[0];
  return undefined;
}

export function pathOf(req: FuzzRequest): string {
  return new URL(`${server.url}${req.target}`).pathname;
}

function isJsonRpcError(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const { jsonrpc, error } = body as Json;
  return (
    jsonrpc === '2.0' &&
    typeof error === 'object' &&
    error !== null &&
    typeof (error as Json).code === 'number' &&
    typeof (error as Json).message === 'string'
  );
}

function serverAlive(): boolean {
  return server.process.child.exitCode === null && server.process.child.signalCode === null;
}

/** The properties every response has, whatever was sent. */
export function universalProblems(req: FuzzRequest, obs: Observed): string[] {
  const problems: string[] = [];
  if (obs.status >= 500) problems.push(`answered ${obs.status}`);
  if (!serverAlive()) problems.push('the server process exited');
  const headerText = [...obs.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
  const trace = stackTraceIn(`${headerText}\n${obs.text}`, req);
  if (trace) problems.push(`the response contains a stack trace fragment ${JSON.stringify(trace)}`);
  const type = obs.headers.get('content-type') ?? '';
  if (req.method !== 'HEAD' && JSON_TYPE.test(type) && (obs.text !== '' || (obs.status >= 400 && obs.status < 500))) {
    let parsed: unknown;
    let parses = true;
    try {
      parsed = JSON.parse(obs.text);
    } catch {
      parses = false;
      problems.push(`content type ${type} but the body is not JSON`);
    }
    if (parses && obs.status >= 400 && obs.status < 500) {
      const error = typeof parsed === 'object' && parsed !== null ? (parsed as Json).error : undefined;
      const mcpError = pathOf(req) === '/mcp' && isJsonRpcError(parsed);
      if (typeof error !== 'string' && !mcpError) problems.push(`a ${obs.status} JSON body without a string error`);
    }
  }
  return problems;
}

export type Extra = (obs: Observed) => string[] | Promise<string[]>;

/** Statuses answered during the current test, printed after it: what the generators reached. */
export const statuses = new Map<number, number>();

export async function exchange(req: FuzzRequest, extra?: Extra): Promise<Observed> {
  let obs: Observed;
  try {
    obs = await send(req);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    throw new Error(
      `the request failed at the HTTP level (${(error as Error).message}${cause ? `: ${cause.message}` : ''}); server alive: ${serverAlive()}\n${repro(req)}`,
    );
  }
  statuses.set(obs.status, (statuses.get(obs.status) ?? 0) + 1);
  const problems = [...universalProblems(req, obs), ...((await extra?.(obs)) ?? [])];
  if (problems.length > 0) {
    throw new Error(
      `${problems.join('; ')}\n${repro(req)}\n→ ${obs.status} ${obs.headers.get('content-type') ?? ''} ${obs.text.slice(0, 600)}`,
    );
  }
  return obs;
}

/** node:http, for what fetch cannot send: repeated header lines, raw Latin-1 targets, odd target forms. */
export function rawSend(
  method: string,
  target: string,
  headers: Record<string, string[]>,
  body?: Buffer,
): Promise<Observed> {
  return new Promise<Observed>((resolve, reject) => {
    const url = new URL(server.url);
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path: target, headers, timeout: 20_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const item of ([] as Array<string | undefined>).concat(value)) {
              if (item !== undefined) responseHeaders.append(name, item);
            }
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: responseHeaders,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

export async function expectHealthy(): Promise<void> {
  expect(serverAlive(), server.process.output().slice(-2000)).toBe(true);
  const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`, {
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect((JSON.parse(text) as Json).issuer).toBe(server.url);
}

/** One exact request, for the pinned regression tests: status and body. */
export async function answer(
  method: string,
  target: string,
  init: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}${target}`, { method, redirect: 'manual', ...init });
  return { status: res.status, text: await res.text() };
}
