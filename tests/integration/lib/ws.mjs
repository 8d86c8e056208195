// WebSocket helpers over the `ws` client: open, refused upgrades, close codes, ping round trips.
import WebSocket from 'ws';
import { withTimeout } from './rtcgate.mjs';

const GUARD_MS = 5000;

/** Client options for url: the gateway's certificate for wss, an Origin when given. */
function clientOptions(gw, url, { origin, headers, autoPong = true } = {}) {
  const opts = { handshakeTimeout: GUARD_MS, autoPong };
  if (url.startsWith('wss:')) opts.ca = gw.ca();
  if (origin) opts.origin = origin;
  if (headers) opts.headers = headers;
  return opts;
}

/**
 * Open a WebSocket and resolve it once open; close events are recorded from the start, so
 * ws.closed (a promise of {code, reason}) never misses an early close.
 */
export function openWs(gw, { url = gw.wsUrl, protocols = ['sip'], ...opts } = {}) {
  const ws = new WebSocket(url, protocols, clientOptions(gw, url, opts));
  ws.on('error', (err) => (ws.lastError = err)); // a late socket error must not crash the runner
  ws.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`upgrade to ${url} refused with HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
  return withTimeout(opened, GUARD_MS, `WebSocket ${url} to open`);
}

/** Attempt an upgrade that must be refused; resolves {status, body, headers}. */
export function refusedUpgrade(gw, { url = gw.wsUrl, protocols, ...opts } = {}) {
  const ws = new WebSocket(url, protocols, clientOptions(gw, url, opts));
  const refused = new Promise((resolve, reject) => {
    ws.once('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        req.destroy();
      });
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`upgrade to ${url} with protocols ${JSON.stringify(protocols)} unexpectedly succeeded`));
    });
    ws.on('error', (err) => reject(err));
  });
  return withTimeout(refused, GUARD_MS, `upgrade refusal from ${url}`);
}

/** Resolve {code, reason} when ws closes. */
export function closed(ws, what = 'WebSocket to close') {
  return withTimeout(ws.closed, GUARD_MS, what);
}

/** A ping answered by a pong: everything sent before it has been read by the server. */
export function roundTrip(ws) {
  const pong = new Promise((resolve, reject) => {
    ws.once('pong', resolve);
    ws.once('close', (code) => reject(new Error(`closed with ${code} while waiting for a pong`)));
  });
  ws.ping();
  return withTimeout(pong, GUARD_MS, 'pong');
}

/** Close from the client side and wait for the close handshake to finish. */
export async function closeWs(ws) {
  if (ws.readyState === WebSocket.CLOSED) return ws.closed;
  ws.close(1000);
  return closed(ws);
}

export { WebSocket };
