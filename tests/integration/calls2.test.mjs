// Calls through rtcgate (issue 4), part two: what happens inside a call. Hold and resume by
// re-INVITE either way, UPDATE, DTMF by INFO, blind transfer by REFER, timer C toward a PBX
// that never answers, early media, the per-device codec filter, and late offer (INVITE
// without SDP). JsSIP with plain RTP (lib/plainpc.mjs) as the browser, sipp as the PBX.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { ctl, metrics, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { answer, call, ended, incoming, register, stop } from './lib/jssip.mjs';
import { connections, noTracks } from './lib/plainpc.mjs';
import { SIPP_DIR, sippDone, sippPbx } from './lib/sipp.mjs';

/** sipp running scenario as the PBX, rtcgate toward it, device alice (args for `device add`) registered. */
async function pbxAndBrowser(scenario, sippArgs, { overrides = [], deviceArgs = [] } = {}) {
  const pbx = await sippPbx(['-sf', path.join(SIPP_DIR, scenario), ...sippArgs]);
  const gw = await startRtcgate({
    overrides: [`sip.pbx=udp:127.0.0.1:${pbx.port}`, 'sip.options_interval=0', ...overrides],
  });
  let ua;
  try {
    const added = await ctl(gw, ['device', 'add', 'alice', '--secret', 'alice-secret', ...deviceArgs]);
    assert.equal(added.code, 0, added.stderr);
    const reg = await register(gw, 'alice', 'x');
    ua = reg.ua;
    assert.deepEqual(reg.result, { registered: true });
  } catch (e) {
    // nothing is left running when set-up fails: a live sipp or rtcgate keeps node up until
    // meson's timeout
    pbx.kill();
    if (ua) await stop(ua).catch(() => {});
    await gw.stopClean().catch(() => {});
    throw e;
  }
  const close = async () => {
    pbx.kill();
    await stop(ua).catch(() => {});
    await gw.stopClean();
  };
  return { pbx, gw, ua, close };
}

/** Resolve when a JsSIP action that takes a completion callback (hold, unhold, renegotiate) is done. */
function completes(what, start) {
  return withTimeout(new Promise((resolve) => assert.ok(start(resolve), `${what} was refused`)), 10_000, what);
}

const audioLine = (sdp) => /^m=audio .*$/m.exec(sdp)?.[0];

describe('inside a call from the browser, through sipp', () => {
  let env;
  let session;
  let pc;
  before(async () => {
    env = await pbxAndBrowser('uas_features.xml', ['-m', '2', '-rtp_echo']);
    let outcome;
    ({ session, outcome, pc } = await call(env.ua, 'sip:1000@pbx.example'));
    assert.deepEqual(outcome, { ok: true });
  });
  after(async () => env?.close());

  test('hold and resume by re-INVITE: sendonly then sendrecv on the call\'s port; RTP flows after resume', async () => {
    const firstPort = pc.remote.port;
    await completes('hold', (done) => session.hold({}, done));
    assert.deepEqual(session.isOnHold(), { local: true, remote: false });
    // the answer to the hold came through rtcgate: anchored on the same port of ours
    assert.match(pc.remoteDescription.sdp, /^o=rtcgate /m);
    assert.match(pc.remoteDescription.sdp, /^a=recvonly/m);
    assert.equal(pc.remote.port, firstPort);
    await completes('unhold', (done) => session.unhold({}, done));
    assert.deepEqual(session.isOnHold(), { local: false, remote: false });
    assert.deepEqual(await pc.rtpRoundTrip(25), { sent: 25, received: 25, intact: 25 });
  });

  test('UPDATE with an offer: carried to the PBX and its answer back, rewritten', async () => {
    const before = pc.remoteDescription.sdp;
    await completes('the UPDATE', (done) => session.renegotiate({ useUpdate: true }, done));
    assert.notEqual(pc.remoteDescription.sdp, before);
    assert.match(pc.remoteDescription.sdp, /^o=rtcgate /m);
  });

  test('DTMF by INFO: sipp gets application/dtmf-relay with the digit and answers 200', async () => {
    const succeeded = new Promise((resolve, reject) =>
      session.once('newDTMF', (e) => {
        e.dtmf.once('succeeded', (r) => resolve(r.response.status_code));
        e.dtmf.once('failed', (r) => reject(new Error(`INFO failed: ${r.response?.status_code}`)));
      }),
    );
    session.sendDTMF('5', { transportType: 'INFO' });
    assert.equal(await withTimeout(succeeded, 10_000, 'the INFO answer'), 200);
  });

  test('blind transfer: REFER reaches sipp with Refer-To, 202 comes back, then the NOTIFY', async () => {
    const events = new Promise((resolve, reject) => {
      const seen = {};
      session.refer('sip:200@pbx.example', {
        eventHandlers: {
          requestSucceeded: (e) => (seen.status = e.response.status_code),
          requestFailed: (e) => reject(new Error(`REFER failed: ${e.response?.status_code ?? e.cause}`)),
          accepted: () => resolve({ ...seen, accepted: true }),
          failed: () => reject(new Error('the NOTIFY reported a failure')),
        },
      });
    });
    assert.deepEqual(await withTimeout(events, 10_000, 'the REFER outcome'), { status: 202, accepted: true });
  });

  test('BYE from the browser ends the call on both sides and frees its media', async () => {
    const mark = env.gw.mark();
    session.terminate();
    await sippDone(env.pbx);
    await env.gw.waitForLog(/msg="call end" login=alice reason=bye_caller/, { after: mark });
    assert.equal((await metrics(env.gw)).sample('rtcgate_media_sessions'), 0);
  });
});

describe('calls from sipp as the PBX', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('hold from the PBX: the browser sees remote hold then resume, answers come anchored', async () => {
    const env = await pbxAndBrowser('register_then_hold.xml', []);
    cleanup.push(env.close);
    const session = await withTimeout(incoming(env.ua), 10_000, 'the incoming call');
    const held = new Promise((resolve) => session.on('hold', (e) => resolve(e.originator)));
    const resumed = new Promise((resolve) => session.on('unhold', (e) => resolve(e.originator)));
    await answer(session);
    assert.equal(await withTimeout(held, 10_000, 'the hold re-INVITE'), 'remote');
    assert.equal(await withTimeout(resumed, 10_000, 'the resume re-INVITE'), 'remote');
    const e = await withTimeout(ended(session), 10_000, 'the BYE from the PBX');
    assert.equal(e.originator, 'remote');
    await sippDone(env.pbx);
  });

  test('late offer: INVITE without SDP; the browser\'s offer goes in the 200, the PBX\'s answer in the ACK', async () => {
    const env = await pbxAndBrowser('register_then_late.xml', ['-rtp_echo']);
    cleanup.push(env.close);
    const mark = env.gw.mark();
    const session = await withTimeout(incoming(env.ua), 10_000, 'the incoming call');
    assert.ok(!session._request.body, 'the INVITE toward the browser has no SDP');
    const pc = await answer(session);
    // the answer came in the ACK, rewritten onto rtcgate's address
    assert.match(pc.remoteDescription.sdp, /^o=rtcgate /m);
    assert.equal(pc.remoteDescription.type, 'answer');
    assert.deepEqual(await pc.rtpRoundTrip(25), { sent: 25, received: 25, intact: 25 });
    const e = await withTimeout(ended(session), 10_000, 'the BYE from the PBX');
    assert.equal(e.originator, 'remote');
    await env.gw.waitForLog(/msg="call start" .*late=1/, { after: mark });
    await sippDone(env.pbx);
  });

  test('a PBX slow to ACK: rtcgate sends its 200 again at T1 and 2*T1, and stops at the ACK', async () => {
    const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sipp-')), 'messages.log');
    const env = await pbxAndBrowser('register_then_ack_late.xml', ['-trace_msg', '-message_file', trace]);
    cleanup.push(env.close);
    const session = await withTimeout(incoming(env.ua), 10_000, 'the incoming call');
    await answer(session);
    const e = await withTimeout(ended(session), 10_000, 'the BYE from the PBX');
    assert.equal(e.originator, 'remote');
    await sippDone(env.pbx);
    // sipp ACKs 2.5 s after the first 200: copies at 0.5 s and 1.5 s, none at 3.5 s
    const received = fs.readFileSync(trace, 'utf8').split(/^-{20,} .*$/m).filter((m) => /message received/.test(m));
    const oks = received.filter((m) => /^SIP\/2\.0 200 /m.test(m) && /^CSeq: 1 INVITE/m.test(m));
    assert.equal(oks.length, 3, 'the 200 of the INVITE, received by the PBX');
    fs.rmSync(path.dirname(trace), { recursive: true });
  });

  test('codec filter: a PCMA-only device never sees PCMU; a PCMU-only offer gets 488', async () => {
    const env = await pbxAndBrowser('register_then_codec.xml', ['-rtp_echo'], { deviceArgs: ['--codecs', 'pcma'] });
    cleanup.push(env.close);
    const mark = env.gw.mark();
    const session = await withTimeout(incoming(env.ua), 10_000, 'the second incoming call');
    await env.gw.waitForLog(/msg="call refused" .*code=488/, { after: mark });
    const offer = session._request.body;
    assert.match(audioLine(offer), /^m=audio \d+ RTP\/AVP 8$/);
    assert.doesNotMatch(offer, /PCMU/);
    await answer(session);
    const e = await withTimeout(ended(session), 10_000, 'the BYE from the PBX');
    assert.equal(e.originator, 'remote');
    await sippDone(env.pbx);
  });
});

describe('calls from the browser toward sipp, the call set-up', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('a PBX that never answers: timer C gives the browser 408 and CANCELs the PBX', async () => {
    const env = await pbxAndBrowser('uas_silent.xml', ['-m', '2'], { overrides: ['sip.invite_timeout=2'] });
    cleanup.push(env.close);
    const mark = env.gw.mark();
    const t0 = Date.now();
    const { outcome } = await call(env.ua, 'sip:1000@pbx.example');
    assert.equal(outcome.status, 408);
    assert.ok(Date.now() - t0 < 5000, `408 after ${Date.now() - t0} ms`);
    await sippDone(env.pbx);
    await env.gw.waitForLog(/msg="call end" login=alice reason=timeout/, { after: mark });
    assert.equal((await metrics(env.gw)).sample('rtcgate_media_sessions'), 0);
  });

  test('early media: 183 with SDP reaches the browser rewritten and RTP flows before the 200', async () => {
    const env = await pbxAndBrowser('uas_early.xml', ['-m', '2', '-rtp_echo']);
    cleanup.push(env.close);
    let confirmed = false;
    const early = new Promise((resolve) => {
      const session = env.ua.call('sip:1000@pbx.example', { mediaStream: noTracks, pcConfig: {} });
      session.on('confirmed', () => (confirmed = true));
      session.on('progress', (e) => {
        if (e.response?.status_code === 183) resolve(session);
      });
    });
    const session = await withTimeout(early, 10_000, 'the 183');
    const pc = connections[connections.length - 1];
    assert.match(pc.remoteDescription.sdp, /^o=rtcgate /m);
    assert.deepEqual(await pc.rtpRoundTrip(10), { sent: 10, received: 10, intact: 10 });
    assert.equal(confirmed, false, 'the RTP went before the 200');
    await withTimeout(new Promise((resolve) => session.once('confirmed', resolve)), 10_000, 'the 200');
    session.terminate();
    await sippDone(env.pbx);
  });

  test('codec filter: the browser\'s offer reaches the PBX with PCMA and telephone-event only', async () => {
    const env = await pbxAndBrowser('uas_pcma.xml', ['-m', '2'], { deviceArgs: ['--codecs', 'pcma'] });
    cleanup.push(env.close);
    const { session, outcome, pc } = await call(env.ua, 'sip:1000@pbx.example');
    assert.deepEqual(outcome, { ok: true });
    assert.match(audioLine(pc.remoteDescription.sdp), /^m=audio \d+ RTP\/AVP 8$/);
    session.terminate();
    await sippDone(env.pbx);
  });
});

describe('a WebSocket flow is a reliable transport', () => {
  test('an INVITE toward a flow that does not answer is sent once, never retransmitted (timer A is UDP only)', async () => {
    const pbx = await sippPbx(['-sf', path.join(SIPP_DIR, 'register_then_call.xml')]);
    const gw = await startRtcgate({ overrides: [`sip.pbx=udp:127.0.0.1:${pbx.port}`, 'sip.options_interval=0'] });
    assert.equal((await ctl(gw, ['device', 'add', 'alice', '--secret', 'alice-secret'])).code, 0);
    const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/sip`, 'sip');
    try {
      await withTimeout(once(ws, 'open'), 5000, 'the WebSocket');
      const received = [];
      ws.on('message', (m) => received.push(m.toString()));
      ws.send(
        ['REGISTER sip:pbx.example SIP/2.0', 'Via: SIP/2.0/WSS raw.invalid;branch=z9hG4bKrel1', 'Max-Forwards: 70',
          'To: <sip:alice@pbx.example>', 'From: <sip:alice@pbx.example>;tag=rel1', 'Call-ID: rel1', 'CSeq: 1 REGISTER',
          'Contact: <sip:raw@raw.invalid;transport=ws>', 'Expires: 300', 'Content-Length: 0', '', ''].join('\r\n'),
      );
      const invite = () => received.filter((m) => m.startsWith('INVITE ')).length;
      await withTimeout(
        (async () => {
          while (invite() === 0) await once(ws, 'message');
        })(),
        10_000,
        'the INVITE from the PBX',
      );
      assert.match(received[0], /^SIP\/2.0 200 /);
      // over UDP, timer A would have resent it at 0.5 s and 1.5 s: watch for 2 s
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(invite(), 1, 'INVITEs received on the flow');
    } finally {
      ws.close();
      pbx.kill();
      await gw.stopClean();
    }
  });
});
