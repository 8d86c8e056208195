// JsSIP (the browser softphone's SIP stack) driven from Node, with `ws` as its WebSocket.
import { WebSocket } from 'ws';
import { PlainPeerConnection, connections, noTracks } from './plainpc.mjs';
import { withTimeout } from './rtcgate.mjs';

/* the browser globals JsSIP reaches for; media is plain RTP from a UDP socket */
globalThis.WebSocket ??= WebSocket;
globalThis.window ??= globalThis;
globalThis.RTCPeerConnection ??= PlainPeerConnection;
globalThis.RTCSessionDescription ??= class {
  constructor(init) {
    Object.assign(this, init);
  }
};
const JsSIP = (await import('jssip')).default;

/**
 * A JsSIP UA registering as user@domain over gw's /sip; resolves {ua, socket, result} where
 * result is {registered: true} or {registered: false, status, reason}. The caller stops the UA.
 * instanceId: the RFC 5626 +sip.instance UUID (JsSIP sends it with reg-id=1); a fresh one when
 * absent.
 */
export async function register(gw, user, password, { domain = 'pbx.example', path = '/sip', instanceId } = {}) {
  const socket = new JsSIP.WebSocketInterface(`ws://127.0.0.1:${gw.httpPort}${path}`);
  const ua = new JsSIP.UA({
    ...(instanceId ? { instance_id: instanceId } : {}),
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
  // JsSIP puts +sip.ice (RFC 5768) in every Contact, and rtcgate offers WebRTC to a client that
  // does; the plain-RTP stand-in does no ICE, so it registers without the tag
  if (globalThis.RTCPeerConnection === PlainPeerConnection) {
    const reg = ua.registrator();
    reg._contact = reg._contact.replace(';+sip.ice', '');
  }
  ua.start();
  return { ua, socket, result: await withTimeout(result, 10_000, `registration of ${user}`) };
}

/** Stop ua and resolve once its WebSocket is closed. */
export async function stop(ua) {
  const gone = new Promise((resolve) => ua.on('disconnected', resolve));
  ua.stop();
  await withTimeout(gone, 5000, 'the UA to disconnect');
}

/**
 * Call target from ua; resolves {session, pc, outcome} once the call is confirmed or failed:
 * outcome is {ok: true} or {ok: false, status, cause}.
 */
export async function call(ua, target) {
  const done = new Promise((resolve) => {
    const session = ua.call(target, { mediaStream: noTracks, pcConfig: {} });
    session.on('confirmed', () => resolve({ session, outcome: { ok: true } }));
    session.on('failed', (e) => resolve({ session, outcome: { ok: false, status: e.message?.status_code, cause: e.cause } }));
  });
  const r = await withTimeout(done, 10_000, `a call to ${target}`);
  return { ...r, pc: connections[connections.length - 1] };
}

/** Resolve with the session of the next incoming call on ua. */
export function incoming(ua) {
  return new Promise((resolve) =>
    ua.once('newRTCSession', (e) => {
      if (e.originator === 'remote') resolve(e.session);
    }),
  );
}

/** Answer session with plain RTP; resolves with its connection once confirmed. */
export async function answer(session) {
  const confirmed = new Promise((resolve) => session.once('confirmed', resolve));
  session.answer({ mediaStream: noTracks, pcConfig: {} });
  await withTimeout(confirmed, 10_000, 'the answered call to be confirmed');
  return session.connection;
}

/** Resolve once session has ended (either side hung up), with the end event. */
export function ended(session) {
  return new Promise((resolve) => {
    session.once('ended', resolve);
    session.once('failed', resolve);
  });
}

/**
 * Drop ua's WebSocket without a goodbye (no un-REGISTER, as when the network goes away) and
 * resolve once JsSIP noticed. It would reconnect after connection_recovery_min_interval (30 s):
 * stop the UA before that.
 */
export async function dropConnection(ua, socket) {
  const gone = new Promise((resolve) => ua.once('disconnected', resolve));
  socket._ws.terminate();
  await withTimeout(gone, 5000, 'the UA to notice its connection is gone');
}
