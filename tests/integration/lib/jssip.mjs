// JsSIP (the browser softphone's SIP stack) driven from Node, with `ws` as its WebSocket.
import { WebSocket } from 'ws';
import { withTimeout } from './rtcgate.mjs';

globalThis.WebSocket ??= WebSocket;
const JsSIP = (await import('jssip')).default;

/**
 * A JsSIP UA registering as user@domain over gw's /sip; resolves {ua, result} where result is
 * {registered: true} or {registered: false, status, reason}. The caller stops the UA.
 */
export async function register(gw, user, password, { domain = 'pbx.example', path = '/sip' } = {}) {
  const socket = new JsSIP.WebSocketInterface(`ws://127.0.0.1:${gw.httpPort}${path}`);
  const ua = new JsSIP.UA({
    sockets: [socket],
    uri: `sip:${user}@${domain}`,
    password,
    register: true,
    register_expires: 300,
    connection_recovery_min_interval: 30,
    connection_recovery_max_interval: 60,
    user_agent: 'rtcgate-tests',
  });
  const result = new Promise((resolve) => {
    ua.on('registered', () => resolve({ registered: true }));
    ua.on('registrationFailed', (e) =>
      resolve({ registered: false, status: e.response?.status_code, reason: e.response?.reason_phrase, cause: e.cause }),
    );
  });
  ua.start();
  return { ua, result: await withTimeout(result, 10_000, `registration of ${user}`) };
}

/** Stop ua and resolve once its WebSocket is closed. */
export async function stop(ua) {
  const gone = new Promise((resolve) => ua.on('disconnected', resolve));
  ua.stop();
  await withTimeout(gone, 5000, 'the UA to disconnect');
}
