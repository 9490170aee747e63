/**
 * The local gateway on Node's http (or https) server: a request read fully, bounded, and the
 * reply written; a reply streamed from an MCP backend is written chunk by chunk as it arrives.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalGateway, type LocalReply, MAX_PAYLOAD_BYTES } from './gateway.js';

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
  // The client going away ends whatever the gateway still reads for it (a backend's SSE stream).
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  // Origin-form targets only ("/path?query"); prefixing keeps "//x" a path, never a host.
  const target = req.url?.startsWith('/') ? req.url : '/';
  const url = URL.canParse(`http://127.0.0.1${target}`)
    ? new URL(`http://127.0.0.1${target}`)
    : new URL('http://127.0.0.1/');
  const reply = await gateway.handle(
    {
      method: req.method ?? 'GET',
      url,
      headers: req.headersDistinct,
      body: Buffer.concat(chunks),
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    },
    gone.signal,
  );
  await writeReply(reply, res, gone.signal);
}

async function writeReply(reply: LocalReply, res: ServerResponse, gone: AbortSignal): Promise<void> {
  if (!('stream' in reply)) {
    res.writeHead(reply.statusCode, { ...reply.headers, 'Content-Length': String(reply.body.length) });
    res.end(reply.body);
    return;
  }
  res.writeHead(reply.statusCode, reply.headers);
  res.flushHeaders();
  try {
    // Each chunk is written as it comes: an SSE event reaches the client before the stream ends.
    for await (const chunk of reply.stream) {
      if (gone.aborted) break;
      if (!res.write(chunk)) await once(res, 'drain', { signal: gone });
    }
    res.end();
  } catch {
    // The backend broke off mid-answer (or the client left): end the client's answer abruptly too.
    res.destroy();
  }
}
