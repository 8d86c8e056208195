// SDES-SRTP toward the PBX (issue 5 scope 4, RFC 4568): a Node TLS PBX with srtp=sdes answers
// RTP/SAVP with a=crypto and hands the media to an SRTP echo on libsrtp2 (python pylibsrtp);
// aiortc calls through rtcgate over WebRTC and hears its audio back. A PBX that answers without
// a=crypto gets the call refused (488 to the caller, ACK and BYE to the PBX); srtp=sdes on udp:
// fails the config check. With srtp=optional rtcgate offers plain RTP/AVP: a plain answer and a
// plain RTP echo carry the call, an RTP/SAVP answer to that offer is refused the same way, and
// an RTP/SAVP offer from the PBX (to a JsSIP flow on plain RTP) is taken with SRTP, a plain one
// plain; over tcp: optional is off (488 to an RTP/SAVP offer). srtp=sdes re-keys on a PBX
// re-INVITE with a new a=crypto key.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { BIN, ctl, metrics, run, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { answer, ended, incoming, register, stop } from './lib/jssip.mjs';
import { streamPbx } from './lib/streampbx.mjs';
import { makeCerts } from './lib/testcerts.mjs';

const LIB = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib');
const PBX_KEY = Buffer.from(Array.from({ length: 30 }, (_, i) => (i * 37 + 11) & 0xff)).toString('base64');

/**
 * The SRTP echo: {port, result (a promise of its last line), theirKey(key), rekey(key), stop}.
 * Without theirKey here, the echo waits for theirKey(key) before it handles a packet. rekey(key)
 * resolves once the echo protects with key (and sends old-key copies of its next echoes).
 */
async function srtpEcho(theirKey = '-') {
  const child = spawn('/usr/bin/python3', [path.join(LIB, 'srtp_echo.py'), theirKey, PBX_KEY], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const first = await withTimeout(once(lines, 'line'), 10_000, 'the SRTP echo to bind');
  const result = new Promise((resolve) =>
    lines.on('line', (l) => {
      const out = JSON.parse(l);
      if (out.rekeyed) lines.emit('rekeyed');
      else resolve(out);
    }),
  );
  return {
    port: JSON.parse(first[0]).port,
    result,
    theirKey: (key) => child.stdin.write(`${key}\n`),
    rekey: async (key) => {
      const done = once(lines, 'rekeyed');
      child.stdin.write(`rekey ${key}\n`);
      await withTimeout(done, 5000, 'the SRTP echo to switch keys');
    },
    stop: async () => {
      child.stdin.end();
      return withTimeout(result, 10_000, 'the SRTP echo to stop');
    },
  };
}

function header(text, name) {
  return new RegExp(`^${name}:.*$`, 'im').exec(text)?.[0];
}

/** A response to request text: status line, its dialog headers (To tagged), and an SDP body. */
function respond(text, status, sdp = '') {
  const lines = [`SIP/2.0 ${status}`];
  for (const h of ['Via', 'From', 'Call-ID', 'CSeq']) lines.push(...text.split('\r\n').filter((l) => new RegExp(`^${h}:`, 'i').test(l)));
  const to = header(text, 'To');
  lines.push(/;tag=/.test(to) ? to : `${to};tag=pbx1`);
  lines.push('Contact: <sip:pbx@127.0.0.1;transport=tls>');
  return withBody(lines, sdp);
}

/** A request from the PBX to uri: a fresh Via branch (transport tls or tcp), Max-Forwards, headers (lines), an SDP body. */
function pbxRequest(method, uri, headers, sdp = '', transport = 'tls') {
  const via = `Via: SIP/2.0/${transport.toUpperCase()} 127.0.0.1;branch=z9hG4bK${randomUUID()}`;
  return withBody([`${method} ${uri} SIP/2.0`, via, 'Max-Forwards: 70', ...headers], sdp);
}

/** Message text: head lines, then Content-Type (with sdp) and Content-Length, then sdp. */
function withBody(lines, sdp) {
  if (sdp) lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(sdp)}`, '', '');
  return lines.join('\r\n') + sdp;
}

/**
 * The PBX's SDP: payload types pts on port, RTP/SAVP with key (PBX_KEY unless given) under
 * cryptoTag, or plain (0); version: o='s session version (re-offers count up).
 */
function pbxSdp(port, pts, cryptoTag, { key = PBX_KEY, version = 1 } = {}) {
  return [
    'v=0', `o=pbx 1 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} ${cryptoTag ? 'RTP/SAVP' : 'RTP/AVP'} ${pts}`,
    ...(cryptoTag ? [`a=crypto:${cryptoTag} AES_CM_128_HMAC_SHA1_80 inline:${key}`] : []),
    'a=sendrecv', '',
  ].join('\r\n');
}

/** The PBX's answer: the first of PCMU/PCMA rtcgate offered, on port, RTP/SAVP + crypto or not. */
function answerSdp(invite, port, crypto) {
  const m = /^m=audio \d+ (\S+) ([\d ]+)$/m.exec(invite);
  return pbxSdp(port, m[2].split(' ').find((p) => p === '0' || p === '8'), crypto ? 1 : 0);
}

/** aiortc registers and calls through gw; its JSON result. */
async function aiortcCall(gw, minFrames) {
  const { code, stdout, stderr } = await run(
    '/usr/bin/python3',
    [path.join(LIB, 'aiortc_call.py'), gw.wsUrl, 'bob', 'bob-secret-1', 'sip:700@pbx.test', String(minFrames)],
    60_000,
  );
  assert.equal(code, 0, stderr.slice(-3000));
  return JSON.parse(stdout.trim().split('\n').pop());
}

/** A plain RTP echo: {port, sizes (of the RTP packets that came), stop}; RTCP is not echoed. */
async function plainEcho() {
  const sock = dgram.createSocket('udp4');
  const sizes = [];
  sock.on('message', (buf, from) => {
    const pt = buf[1] & 0x7f;
    if (buf.length < 12 || buf[0] >> 6 !== 2 || (pt >= 72 && pt <= 79)) return;
    sizes.push(buf.length);
    sock.send(buf, from.port, from.address);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return { port: sock.address().port, sizes, stop: () => new Promise((resolve) => sock.close(resolve)) };
}

/**
 * A PBX over transport (tls or tcp) that answers BYE, rtcgate toward it with ;srtp=srtp and
 * device bob: {pbx, gw, transport, close}.
 */
async function pbxGateway(srtp, transport) {
  const certs = transport === 'tls' ? makeCerts() : null;
  let pbx, gw;
  const close = async () => {
    await gw?.stopClean();
    await pbx?.close();
    if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
  };
  try {
    pbx = await streamPbx(certs ? { tlsOptions: { key: certs.key, cert: certs.cert } } : {});
    gw = await startRtcgate({
      overrides: [
        `sip.pbx=${transport}:127.0.0.1:${pbx.port};srtp=${srtp}`,
        ...(certs ? [`sip.tls_ca=${certs.ca}`] : []),
        'sip.options_interval=0',
      ],
    });
    const r = await ctl(gw, ['device', 'add', 'bob', '--secret', 'bob-secret-1']);
    assert.equal(r.code, 0, r.stderr);
  } catch (err) {
    await close();
    throw err;
  }
  pbx.on('request', (t) => {
    if (/^BYE /.test(t)) pbx.write(respond(t, '200 OK'));
  });
  return { pbx, gw, transport, close };
}

/**
 * The PBX answers aiortc's call 200 OK with answer(invite), which rtcgate must refuse: one
 * INVITE, 488 with a reason matching reason to the caller, ACK and BYE to the PBX, no media
 * session left. Returns the INVITE.
 */
async function refusedAnswer({ pbx, gw }, answer, reason) {
  const seen = pbx.requests.length;
  const invites = [];
  const onInvite = (t) => {
    if (/^INVITE /.test(t)) {
      invites.push(t);
      pbx.write(respond(t, '200 OK', answer(t)));
    }
  };
  pbx.on('request', onInvite);
  const out = await aiortcCall(gw, 1);
  pbx.off('request', onInvite);
  assert.equal(invites.length, 1);
  assert.equal(out.status, 488);
  assert.match(out.reason, reason);
  const callId = header(invites[0], 'Call-ID');
  const inDialog = (method) => (t) => t.startsWith(`${method} `) && header(t, 'Call-ID') === callId;
  await withTimeout(pbx.request(/^ACK /), 5000, 'the ACK of the 2xx');
  assert.ok(pbx.requests.slice(seen).some(inDialog('ACK')), 'the 2xx was ACKed');
  await withTimeout(pbx.request(/^BYE /), 5000, 'the BYE');
  assert.ok(pbx.requests.slice(seen).some(inDialog('BYE')), 'the PBX got a BYE for the call');
  const m = await metrics(gw);
  assert.equal(m.sample('rtcgate_media_sessions'), 0);
  return invites[0];
}

/** Inside a describe: its before() fills the object returned with pbxGateway(srtp, transport), after() closes it. */
function pbxGatewayHooks(srtp, transport = 'tls') {
  const env = {};
  before(async () => Object.assign(env, await pbxGateway(srtp, transport)));
  after(() => env.close?.());
  return env;
}

/**
 * Device user (added now) registers over JsSIP on a plain-RTP flow: {ua, contact (the Contact
 * rtcgate registered for it at the PBX)}. The caller stops ua.
 */
async function plainFlow({ pbx, gw }, user) {
  const r = await ctl(gw, ['device', 'add', user, '--secret', `${user}-secret-1`]);
  assert.equal(r.code, 0, r.stderr);
  const { ua, result } = await register(gw, user, 'x');
  try {
    assert.deepEqual(result, { registered: true });
    const reg = await withTimeout(pbx.request(new RegExp(`^REGISTER [^]*\\r\\nFrom: [^\\r]*${user}@`)), 5000, `${user}'s REGISTER`);
    return { ua, contact: /^Contact: <([^>]+)>/m.exec(reg)[1] };
  } catch (e) {
    await stop(ua).catch(() => {});
    throw e;
  }
}

/**
 * A dialog the PBX opens toward contact (user's flow): send(method, cseq, sdp) writes a request
 * in it (the INVITE first; after a 2xx, to its Contact with its To tag), response(status, cseq,
 * what) resolves with the response to that CSeq whose status matches (a pattern, e.g. '200').
 */
function pbxDialog({ pbx, transport }, contact, user) {
  const callId = `in-${randomUUID()}`;
  let to = `To: <sip:${user}@pbx.test>`;
  let target = contact;
  return {
    callId,
    send(method, cseq, sdp = '') {
      const headers = ['From: <sip:900@pbx.test>;tag=pbxin', `Call-ID: ${callId}`, to, `CSeq: ${cseq} ${method}`];
      headers.push(`Contact: <sip:pbx@127.0.0.1:${pbx.port};transport=${transport}>`);
      pbx.write(pbxRequest(method, target, headers, sdp, transport));
    },
    async response(status, cseq, what) {
      const re = new RegExp(`^SIP/2\\.0 ${status} (?=[^]*\\r\\nCall-ID: ${callId}\\r\\n)(?=[^]*\\r\\nCSeq: ${cseq} INVITE\\r\\n)`, 'i');
      const r = await withTimeout(pbx.response(re), 10_000, what);
      if (/^SIP\/2\.0 2/.test(r)) {
        to = header(r, 'To');
        target = /^Contact: <([^>]+)>/m.exec(r)[1];
      }
      return r;
    },
  };
}

/**
 * The PBX calls user's flow with sdp and the flow answers with plain RTP; the PBX ACKs the 200.
 * {ua, dialog, ok (the 200's text), session, confirmed (resolves with the flow's connection once
 * the ACK is in)}. The caller stops ua.
 */
async function pbxCallsFlow(env, user, sdp) {
  const { ua, contact } = await plainFlow(env, user);
  try {
    const dialog = pbxDialog(env, contact, user);
    const ringing = incoming(ua);
    dialog.send('INVITE', 1, sdp);
    const session = await withTimeout(ringing, 10_000, 'the incoming call');
    const confirmed = answer(session);
    const ok = await dialog.response('200', 1, 'the 200 to the PBX');
    return { ua, dialog, ok, session, confirmed };
  } catch (e) {
    await stop(ua).catch(() => {});
    throw e;
  }
}

/**
 * The PBX calls user's flow offering RTP/SAVP with a=crypto under tag toward echo; our key
 * (asserted in the 200 under that tag) goes to the echo, the ACK, then 25 RTP packets round
 * trip intact. {call (as pbxCallsFlow's), pc, ourKey}; the caller stops call.ua.
 */
async function sdesCallIn(env, user, echo, tag) {
  const call = await pbxCallsFlow(env, user, pbxSdp(echo.port, '0 8', tag));
  const ourKey = new RegExp(`^a=crypto:${tag} AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/]{40})\r$`, 'm').exec(call.ok)?.[1];
  try {
    assert.ok(ourKey, call.ok);
    echo.theirKey(ourKey);
    call.dialog.send('ACK', 1);
    const pc = await call.confirmed;
    assert.deepEqual(await pc.rtpRoundTrip(25), { sent: 25, received: 25, intact: 25 });
    return { call, pc, ourKey };
  } catch (e) {
    await stop(call.ua).catch(() => {});
    throw e;
  }
}

/** The SRTP packets gw dropped because their tag did not verify, so far. */
async function srtpDropped(gw) {
  return (await metrics(gw)).sample('rtcgate_media_dropped_total', { reason: 'srtp_auth' }) ?? 0;
}

/** The flow hangs up call (from pbxCallsFlow); resolves once the BYE reached the PBX. */
async function hangUp({ pbx }, call) {
  const bye = pbx.request(new RegExp(`^BYE [^]*\\r\\nCall-ID: ${call.dialog.callId}\\r\\n`, 'i'));
  call.session.terminate();
  await withTimeout(bye, 5000, 'the BYE to the PBX');
}

/** No line of gw's log holds one of keys (base64). */
function assertNoKeys(gw, keys) {
  const leaked = gw.stderrLines.filter((l) => keys.some((k) => l.includes(k)));
  assert.deepEqual(leaked, []);
}

describe('a TLS PBX with srtp=sdes', () => {
  const env = pbxGatewayHooks('sdes');

  test('offer RTP/SAVP with a fresh a=crypto; the SRTP echo verifies it and aiortc hears itself', async () => {
    const { pbx, gw } = env;
    const mark = gw.mark();
    let echo;
    const answered = pbx.request(/^INVITE /).then(async (invite) => {
      const key = /^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/]{40})\r$/m.exec(invite)?.[1];
      if (!key) {
        pbx.write(respond(invite, '488 Not Acceptable Here'));
        return invite;
      }
      echo = await srtpEcho(key);
      pbx.write(respond(invite, '200 OK', answerSdp(invite, echo.port, true)));
      return invite;
    });
    const out = await aiortcCall(gw, 50);
    const invite = await answered;
    const echoed = await echo?.stop();
    assert.match(invite, /^m=audio \d+ RTP\/SAVP [\d ]+\r$/m);
    assert.equal(invite.match(/^a=crypto:/gm).length, 1);
    assert.equal(out.status, 200, out.reason);
    assert.ok(out.frames >= 50, `only ${out.frames} frames came back`);
    assert.equal(out.bye, 200);
    // what rtcgate sent verified with the key it offered; every forged reply was dropped
    assert.ok(echoed.ok >= 50, JSON.stringify(echoed));
    assert.equal(echoed.bad, 0);
    assert.equal(echoed.forged, 5);
    const m = await metrics(gw);
    assert.ok(m.sample('rtcgate_media_dropped_total', { reason: 'srtp_auth' }) >= 5);
    await gw.waitForLog(/msg="pbx srtp" login=bob media=\d+ step=answer_from_pbx tag=1 suite=AES_CM_128_HMAC_SHA1_80/, { after: mark });
    await gw.waitForLog(/msg="pbx srtp keys" session=\d+ leg=b/, { after: mark });
    assertNoKeys(gw, [/inline:([A-Za-z0-9+/]{40})/.exec(invite)[1], PBX_KEY]);
  });

  test('the PBX answers RTP/AVP without a=crypto: 488 "No usable a=crypto" to the caller, ACK and BYE to the PBX', async () => {
    const { gw } = env;
    const mark = gw.mark();
    await refusedAnswer(env, (t) => answerSdp(t, 40000, false), /No usable a=crypto/);
    await gw.waitForLog(/msg="pbx srtp refused" login=bob reason="[^"]+"/, { after: mark });
  });
  test('the PBX re-keys by re-INVITE (a new a=crypto key, RFC 4568 §7.1.4): RTP under the new key crosses, the old key is dropped', async () => {
    const { gw } = env;
    const newKey = Buffer.from(Array.from({ length: 30 }, (_, i) => (i * 53 + 7) & 0xff)).toString('base64');
    const echo = await srtpEcho();
    let call, reok, echoed, droppedBefore;
    const mark = gw.mark();
    try {
      let pc, ourKey;
      ({ call, pc, ourKey } = await sdesCallIn(env, 'carol', echo, 1));
      const rekeyMark = gw.mark();
      call.dialog.send('INVITE', 2, pbxSdp(echo.port, '0 8', 2, { key: newKey, version: 2 }));
      reok = await call.dialog.response('200', 2, 'the 200 to the re-INVITE');
      // our key stays (docs/sip.md), under the re-offer's tag; the PBX's new one is in once logged
      assert.equal(/^a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/]{40})\r$/m.exec(reok)?.[1], ourKey, reok);
      await gw.waitForLog(/msg="pbx srtp keys" session=\d+ leg=b suite=\S+ new_local=no new_remote=yes/, { after: rekeyMark });
      await echo.rekey(newKey);
      call.dialog.send('ACK', 2);
      droppedBefore = await srtpDropped(gw);
      assert.deepEqual(await pc.rtpRoundTrip(25, 25), { sent: 25, received: 25, intact: 25 });
      await hangUp(env, call);
    } finally {
      echoed = await echo.stop();
      if (call) await stop(call.ua).catch(() => {});
    }
    assert.equal(echoed.ok, 50, JSON.stringify(echoed));
    assert.equal(echoed.bad, 0);
    // the old key's copies sent after the switch were dropped, the new key's echoes taken
    assert.equal(echoed.stale, 5);
    assert.equal((await srtpDropped(gw)) - droppedBefore, 5);
    await gw.waitForLog(/msg="pbx srtp" login=carol media=\d+ step=answer_to_pbx tag=2 suite=AES_CM_128_HMAC_SHA1_80/, { after: mark });
    assertNoKeys(gw, [/inline:([A-Za-z0-9+/]{40})/.exec(reok)[1], PBX_KEY, newKey]);
  });
});

describe('a TLS PBX with srtp=optional', () => {
  const env = pbxGatewayHooks('optional');

  test('offer plain RTP/AVP without a=crypto; a plain answer and a plain RTP echo carry the call', async () => {
    const { pbx, gw } = env;
    const mark = gw.mark();
    const seen = pbx.requests.length;
    const echo = await plainEcho();
    const onInvite = (t) => {
      if (/^INVITE /.test(t)) pbx.write(respond(t, '200 OK', answerSdp(t, echo.port, false)));
    };
    pbx.on('request', onInvite);
    let out;
    try {
      out = await aiortcCall(gw, 50);
    } finally {
      pbx.off('request', onInvite);
      await echo.stop();
    }
    const invites = pbx.requests.slice(seen).filter((t) => /^INVITE /.test(t));
    assert.equal(invites.length, 1);
    assert.match(invites[0], /^m=audio \d+ RTP\/AVP [\d ]+\r$/m);
    assert.doesNotMatch(invites[0], /^a=crypto:/m);
    assert.equal(out.status, 200, out.reason);
    assert.ok(out.frames >= 50, `only ${out.frames} frames came back`);
    assert.equal(out.bye, 200);
    // plain G.711 toward the PBX: a 12-byte header and whole 10 ms of samples, no SRTP tag
    assert.ok(echo.sizes.length >= 50, `the echo got ${echo.sizes.length} RTP packets`);
    assert.deepEqual(echo.sizes.filter((n) => (n - 12) % 80 !== 0), []);
    await gw.waitForLog(/msg="call end" login=bob/, { after: mark });
    assert.deepEqual(gw.stderrLines.slice(mark).filter((l) => /msg="pbx srtp/.test(l)), []);
  });

  test('the PBX answers our RTP/AVP offer with RTP/SAVP and a=crypto: 488 to the caller, ACK and BYE to the PBX', async () => {
    const { gw } = env;
    const mark = gw.mark();
    const invite = await refusedAnswer(env, (t) => answerSdp(t, 40000, true), /RTP\/SAVP answer to an RTP\/AVP offer/);
    assert.match(invite, /^m=audio \d+ RTP\/AVP [\d ]+\r$/m);
    assert.doesNotMatch(invite, /^a=crypto:/m);
    assert.deepEqual(gw.stderrLines.slice(mark).filter((l) => /msg="pbx srtp(?: keys)?"/.test(l)), []);
    assertNoKeys(gw, [PBX_KEY]);
  });

  test('the PBX calls in with RTP/SAVP and a=crypto: our answer is RTP/SAVP with our key under its tag; RTP crosses the SRTP echo intact', async () => {
    const { gw } = env;
    const mark = gw.mark();
    const droppedBefore = await srtpDropped(gw);
    const echo = await srtpEcho();
    let call, echoed;
    try {
      ({ call } = await sdesCallIn(env, 'carol', echo, 3));
      await hangUp(env, call);
    } finally {
      echoed = await echo.stop();
      if (call) await stop(call.ua).catch(() => {});
    }
    assert.match(call.ok, /^m=audio \d+ RTP\/SAVP [\d ]+\r$/m);
    assert.equal(call.ok.match(/^a=crypto:/gm).length, 1);
    // what rtcgate sent verified with the key it answered; every forged echo was dropped
    assert.ok(echoed.ok >= 25, JSON.stringify(echoed));
    assert.equal(echoed.bad, 0);
    assert.equal(echoed.forged, 5);
    assert.ok((await srtpDropped(gw)) - droppedBefore >= 5, 'the forged echoes were not dropped as srtp_auth');
    await gw.waitForLog(/msg="pbx srtp" login=carol media=\d+ step=answer_to_pbx tag=3 suite=AES_CM_128_HMAC_SHA1_80/, { after: mark });
    await gw.waitForLog(/msg="pbx srtp keys" session=\d+ leg=b/, { after: mark });
    assertNoKeys(gw, [/inline:([A-Za-z0-9+/]{40})/.exec(call.ok)[1], PBX_KEY]);
  });

  test('the PBX calls in with plain RTP/AVP: our answer is RTP/AVP without a=crypto; plain G.711 crosses', async () => {
    const { gw } = env;
    const mark = gw.mark();
    const echo = await plainEcho();
    let call;
    try {
      call = await pbxCallsFlow(env, 'dave', pbxSdp(echo.port, '0 8', 0));
      call.dialog.send('ACK', 1);
      const pc = await call.confirmed;
      assert.deepEqual(await pc.rtpRoundTrip(25), { sent: 25, received: 25, intact: 25 });
      await hangUp(env, call);
    } finally {
      await echo.stop();
      if (call) await stop(call.ua).catch(() => {});
    }
    assert.match(call.ok, /^m=audio \d+ RTP\/AVP [\d ]+\r$/m);
    assert.doesNotMatch(call.ok, /^a=crypto:/m);
    // plain G.711 toward the PBX: a 12-byte header and whole 10 ms of samples, no SRTP tag
    assert.equal(echo.sizes.length, 25);
    assert.deepEqual(echo.sizes.filter((n) => (n - 12) % 80 !== 0), []);
    assert.deepEqual(gw.stderrLines.slice(mark).filter((l) => /msg="pbx srtp/.test(l)), []);
  });
});

describe('a TCP PBX with srtp=optional (no TLS: as off)', () => {
  const env = pbxGatewayHooks('optional', 'tcp');

  test('the PBX calls in with RTP/SAVP and a=crypto: 488, the flow never rings, no SRTP', async () => {
    const { gw } = env;
    const mark = gw.mark();
    const { ua, contact } = await plainFlow(env, 'carol');
    let final;
    try {
      const dialog = pbxDialog(env, contact, 'carol');
      const rang = incoming(ua).then(() => 'the flow rang');
      dialog.send('INVITE', 1, pbxSdp(40000, '0 8', 1));
      final = await Promise.race([dialog.response('[2-6]\\d\\d', 1, 'the final response to the PBX'), rang]);
    } finally {
      await stop(ua).catch(() => {});
    }
    assert.match(final, /^SIP\/2\.0 488 /);
    assert.equal((await metrics(gw)).sample('rtcgate_media_sessions'), 0);
    assert.deepEqual(gw.stderrLines.slice(mark).filter((l) => /msg="pbx srtp/.test(l)), []);
    assertNoKeys(gw, [PBX_KEY]);
  });
});

test('srtp=sdes on a udp: target fails --check-config', async () => {
  const r = await run(BIN, ['-o', 'sip.pbx=udp:127.0.0.1:5060;srtp=sdes', '--check-config']);
  assert.equal(r.code, 1);
  assert.match(r.stderr + r.stdout, /sip\.pbx.*srtp=sdes.*tls/);
  const ok = await run(BIN, ['-o', 'sip.pbx=tls:127.0.0.1:5061;srtp=sdes', '--check-config']);
  assert.equal(ok.code, 0, ok.stderr);
});
