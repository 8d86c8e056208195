// Hand-written SIP over a raw WebSocket flow, for messages no real client would send.
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { withTimeout } from './rtcgate.mjs';

/** A raw WebSocket SIP client: send text, await the next message. */
export async function rawFlow(gw) {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/sip`, 'sip');
  await once(ws, 'open');
  const next = () => withTimeout(once(ws, 'message').then(([d]) => d.toString()), 3000, 'an answer');
  return { ws, next };
}

/** An OPTIONS (or, with a first line, another request) from alice with extra headers. */
export const badRequest = (headers, first = 'OPTIONS sip:pbx.example SIP/2.0') =>
  [
    first,
    `Via: SIP/2.0/WSS client.invalid;branch=z9hG4bK${Math.random().toString(36).slice(2)}`,
    'Max-Forwards: 70',
    'To: <sip:pbx.example>',
    'From: <sip:alice@pbx.example>;tag=abc',
    ...headers,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
