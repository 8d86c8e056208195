// Hand-written SIP over a raw WebSocket flow, for messages no real client would send.
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { metrics, withTimeout } from './rtcgate.mjs';

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

/** Open n flows at once; resolves with them once each is open, closed or refused. */
export function connectBurst(gw, n) {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/sip`, 'sip');
      ws.on('error', () => {}); // beyond http.ws_max_connections the upgrade is refused: fine
      await Promise.race([once(ws, 'open'), once(ws, 'close'), once(ws, 'unexpected-response')]);
      return ws;
    }),
  );
}

/** The flow gauge, polled (bounded) until it equals want; returns the last value seen. */
export async function flowsSettle(gw, want) {
  let open = -1;
  for (let i = 0; i < 200 && open !== want; i++) open = (await metrics(gw)).sample('rtcgate_ws_connections');
  return open;
}
