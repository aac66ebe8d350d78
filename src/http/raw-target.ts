import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^(GET|HEAD) (\S.*) (HTTP\/1\.[01])$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * The server's answer to a request Node's HTTP parser refused. That parser refuses a target with raw
 * (unencoded) UTF-8 or spaces, as curl sends `?q=Nguyễn Văn A`: such a GET or HEAD is answered
 * through the app, with those bytes percent-encoded. Anything else gets a problem document, as
 * Fastify's own handler would (408 for a timeout, 431 for oversized headers, else 400).
 */
export function answerClientError(this: FastifyInstance, error: Error, socket: Socket): void {
  const { code, rawPacket } = error as { code?: string; rawPacket?: Buffer };
  if (code === 'ECONNRESET' || socket.destroyed) return;
  // Only the request line can be at fault: a request with a bad header field is still refused.
  const request = code?.startsWith('HPE_') && rawPacket ? parseHead(rawPacket) : undefined;
  if (!request) {
    refuse(socket, code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : code === 'HPE_HEADER_OVERFLOW' ? 431 : 400);
    return;
  }
  this.inject({
    method: request.method,
    url: request.target,
    headers: request.headers,
    remoteAddress: socket.remoteAddress,
  })
    .then((res) => {
      if (!socket.writable) return;
      const head = [`HTTP/1.1 ${res.statusCode} ${res.statusMessage}`];
      for (const [name, value] of Object.entries(res.headers)) {
        if (name === 'connection' || name === 'transfer-encoding' || name === 'keep-alive') continue;
        for (const v of Array.isArray(value) ? value : [value]) head.push(`${name}: ${v}`);
      }
      head.push('connection: close', '', '');
      socket.end(Buffer.concat([Buffer.from(head.join('\r\n'), 'latin1'), res.rawPayload]));
    })
    .catch(() => refuse(socket, 500));
}

function parseHead(
  raw: Buffer,
): { method: 'GET' | 'HEAD'; target: string; headers: Record<string, string> } | undefined {
  const end = raw.indexOf(HEAD_END);
  if (end < 0) return undefined;
  const [line, ...fields] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = REQUEST_LINE.exec(line);
  if (!m) return undefined;
  const target = encodeTarget(m[2]);
  if (target === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const field of fields) {
    const colon = field.indexOf(':');
    const name = field.slice(0, colon).toLowerCase();
    const value = field.slice(colon + 1).trim();
    if (colon <= 0 || !TOKEN.test(name) || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return undefined;
    // Without a body: nothing can be smuggled behind the request.
    if (name === 'content-length' || name === 'transfer-encoding') return undefined;
    headers[name] = value;
  }
  return { method: m[1] as 'GET' | 'HEAD', target, headers };
}

// The target as latin1 text, one character per byte: bytes past ASCII and spaces are escaped, controls refused.
function encodeTarget(latin1: string): string | undefined {
  let out = '';
  for (let i = 0; i < latin1.length; i++) {
    const c = latin1.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return undefined;
    out += c > 0x7f || c === 0x20 ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : latin1[i];
  }
  return out;
}

const TITLES = {
  400: 'Bad request',
  408: 'Request timeout',
  431: 'Request header fields too large',
  500: 'Internal server error',
} as const;

function refuse(socket: Socket, status: keyof typeof TITLES): void {
  if (socket.writable) {
    const body = JSON.stringify({
      type: 'urn:kyso:problem:bad-request',
      title: TITLES[status],
      status,
      detail: 'the request could not be read as HTTP/1.1',
      code: 'bad-request',
    });
    socket.write(
      `HTTP/1.1 ${status} ${TITLES[status]}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
