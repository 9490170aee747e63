/** The local gateway on Node's http (or https) server: a request read fully, bounded, and the reply written. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalGateway, MAX_PAYLOAD_BYTES } from './gateway.js';

/** Reads a Node request fully (bounded), hands it to the gateway, writes the reply. */
export async function serveNodeRequest(
  gateway: LocalGateway,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_PAYLOAD_BYTES + 1) chunks.push(chunk as Buffer);
  }
  // Origin-form targets only ("/path?query"); prefixing keeps "//x" a path, never a host.
  const target = req.url?.startsWith('/') ? req.url : '/';
  const url = URL.canParse(`http://127.0.0.1${target}`)
    ? new URL(`http://127.0.0.1${target}`)
    : new URL('http://127.0.0.1/');
  const reply = await gateway.handle({
    method: req.method ?? 'GET',
    url,
    headers: req.headersDistinct,
    body: Buffer.concat(chunks),
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
  });
  res.writeHead(reply.statusCode, { ...reply.headers, 'Content-Length': String(reply.body.length) });
  res.end(reply.body);
}
