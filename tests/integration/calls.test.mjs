// Calls through rtcgate (issue 4): JsSIP in Node with plain-RTP SDP on one side; the built-in
// demo target or sipp as the PBX on the other; RTP checked end to end through the media workers.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { ctl, metrics, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { answer, call, ended, incoming, register, stop } from './lib/jssip.mjs';
import { SIPP_DIR, sippDone, sippPbx } from './lib/sipp.mjs';

async function device(gw, args) {
  const r = await ctl(gw, ['device', ...args]);
  assert.equal(r.code, 0, r.stderr);
}

async function sessionsNow(gw) {
  return (await metrics(gw)).sample('rtcgate_media_sessions');
}

describe('calls to the built-in demo target', () => {
  let gw;
  let ua;
  before(async () => {
    gw = await startRtcgate();
    await device(gw, ['add', 'alice', '--secret', 'alice-secret']);
    ({ ua } = await register(gw, 'alice', 'x'));
  });
  after(async () => {
    if (ua) await stop(ua);
    await gw?.stopClean();
  });

  test('echo: the call is answered and every RTP packet comes back intact', async () => {
    const { session, outcome, pc } = await call(ua, 'sip:echo@pbx.example');
    assert.deepEqual(outcome, { ok: true });
    assert.equal(await sessionsNow(gw), 1);
    const during = await metrics(gw);
    assert.equal(during.sample('rtcgate_sip_calls', { state: 'answered' }), 1);
    assert.ok(during.sample('rtcgate_sip_responses_total', { code: '200' }) >= 1);
    const rtp = await pc.rtpRoundTrip(50);
    assert.deepEqual(rtp, { sent: 50, received: 50, intact: 50 });
    const mark = gw.mark();
    session.terminate();
    await gw.waitForLog(/msg="call end" login=alice reason=bye_caller/, { after: mark });
    assert.equal(await sessionsNow(gw), 0);
    const afterCall = await metrics(gw);
    assert.equal(afterCall.sample('rtcgate_sip_calls', { state: 'answered' }), 0);
    assert.equal(afterCall.sample('rtcgate_sip_calls_ended_total', { reason: 'bye_caller' }), 1);
  });

  test('an unknown extension: the target refuses with 404, passed through', async () => {
    const { outcome } = await call(ua, 'sip:nobody@pbx.example');
    assert.equal(outcome.ok, false);
    assert.equal(outcome.status, 404);
    assert.equal(await sessionsNow(gw), 0);
  });

  test('cancelled while ringing: 487 to the caller, the target cancelled, no session left', async () => {
    const mark = gw.mark();
    const done = new Promise((resolve) => {
      const session = ua.call('sip:ring@pbx.example', { mediaStream: { getTracks: () => [] }, pcConfig: {} });
      session.on('progress', () => session.terminate());
      session.on('failed', (e) => resolve(e));
    });
    const e = await withTimeout(done, 10_000, 'the cancelled call to fail');
    assert.equal(e.cause, 'Canceled');
    await gw.waitForLog(/msg="call end" login=alice reason=cancelled/, { after: mark });
    assert.equal(await sessionsNow(gw), 0);
  });

  test('an INVITE on a flow that has not registered gets 403', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/sip`, 'sip');
    await once(ws, 'open');
    ws.send(
      [
        'INVITE sip:echo@pbx.example SIP/2.0',
        'Via: SIP/2.0/WSS client.invalid;branch=z9hG4bKnoreg1',
        'Max-Forwards: 70',
        'To: <sip:echo@pbx.example>',
        'From: <sip:alice@pbx.example>;tag=t1',
        'Call-ID: noreg1',
        'CSeq: 1 INVITE',
        'Contact: <sip:x@client.invalid;transport=ws>',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const [answerMsg] = await withTimeout(once(ws, 'message'), 3000, 'an answer');
    assert.match(answerMsg.toString(), /^SIP\/2.0 403 Register first\r\n/);
    ws.close();
  });
});

describe('several calls on one registration (call waiting), capped by the device', () => {
  let gw;
  let ua;
  before(async () => {
    gw = await startRtcgate();
    await device(gw, ['add', 'carol', '--secret', 'carol-secret', '--max-calls', '2']);
    ({ ua } = await register(gw, 'carol', 'x'));
  });
  after(async () => {
    if (ua) await stop(ua);
    await gw?.stopClean();
  });

  test('two calls at once each echo their own media; a third gets 486; a freed slot is reused', async () => {
    const first = await call(ua, 'sip:echo@pbx.example');
    assert.deepEqual(first.outcome, { ok: true });
    const second = await call(ua, 'sip:echo@pbx.example');
    assert.deepEqual(second.outcome, { ok: true });
    assert.notEqual(first.pc, second.pc);
    assert.equal(await sessionsNow(gw), 2);
    const [a, b] = await Promise.all([first.pc.rtpRoundTrip(30), second.pc.rtpRoundTrip(30)]);
    assert.deepEqual(a, { sent: 30, received: 30, intact: 30 });
    assert.deepEqual(b, { sent: 30, received: 30, intact: 30 });
    const third = await call(ua, 'sip:echo@pbx.example');
    assert.equal(third.outcome.ok, false);
    assert.equal(third.outcome.status, 486);
    assert.equal(await sessionsNow(gw), 2);
    const mark = gw.mark();
    first.session.terminate();
    await gw.waitForLog(/msg="call end" login=carol reason=bye_caller/, { after: mark });
    const fourth = await call(ua, 'sip:echo@pbx.example');
    assert.deepEqual(fourth.outcome, { ok: true });
    assert.deepEqual(await second.pc.rtpRoundTrip(10), { sent: 10, received: 10, intact: 10 });
    assert.deepEqual(await fourth.pc.rtpRoundTrip(10), { sent: 10, received: 10, intact: 10 });
    second.session.terminate();
    fourth.session.terminate();
  });
});

describe('calls through sipp as the PBX', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  /** sipp with scenario as the PBX (the browser's REGISTER is a second sipp call), alice registered. */
  async function setup(scenario, extra = []) {
    const pbx = await sippPbx(['-sf', path.join(SIPP_DIR, scenario), ...extra]);
    const gw = await startRtcgate({ overrides: [`sip.pbx=udp:127.0.0.1:${pbx.port}`, 'sip.options_interval=0'] });
    await device(gw, ['add', 'alice', '--secret', 'alice-secret']);
    const { ua, result } = await register(gw, 'alice', 'x');
    assert.deepEqual(result, { registered: true });
    cleanup.push(async () => {
      pbx.kill();
      await stop(ua).catch(() => {});
      await gw.stopClean();
    });
    return { pbx, gw, ua };
  }

  test('browser → PBX: ringing, answered, RTP echoed by sipp intact, the browser hangs up', async () => {
    const { pbx, gw, ua } = await setup('uas_answer.xml', ['-m', '2', '-rtp_echo']);
    const { session, outcome, pc } = await call(ua, 'sip:1000@pbx.example');
    assert.deepEqual(outcome, { ok: true });
    assert.deepEqual(await pc.rtpRoundTrip(50), { sent: 50, received: 50, intact: 50 });
    session.terminate();
    await sippDone(pbx);
    assert.equal(await sessionsNow(gw), 0);
  });

  test('browser → PBX: the PBX hangs up; the browser hears BYE', async () => {
    const { pbx, ua } = await setup('uas_answer_bye.xml', ['-m', '2']);
    const { session, outcome } = await call(ua, 'sip:1000@pbx.example');
    assert.deepEqual(outcome, { ok: true });
    const e = await withTimeout(ended(session), 10_000, 'the BYE from the PBX');
    assert.equal(e.originator, 'remote');
    await sippDone(pbx);
  });

  test('session timer (RFC 4028): no refresh within Session-Expires, rtcgate ends both legs', async () => {
    const { pbx, gw, ua } = await setup('uas_session_timer.xml', ['-m', '2']);
    const mark = gw.mark();
    const { session, outcome } = await call(ua, 'sip:1000@pbx.example');
    assert.deepEqual(outcome, { ok: true });
    // JsSIP (refresher=uas: not its turn) would give up only at 1.1 × 6 s; rtcgate's BYE comes at 4 s
    const e = await withTimeout(ended(session), 10_000, 'the BYE of an expired session');
    assert.equal(e.originator, 'remote');
    await gw.waitForLog(/msg="call end" login=alice reason=session_expired/, { after: mark });
    await sippDone(pbx); // sipp received its BYE too
    assert.equal(await sessionsNow(gw), 0);
  });

  test('busy: 486 passed through to the browser', async () => {
    const { pbx, ua } = await setup('uas_busy.xml', ['-m', '2']);
    const { outcome } = await call(ua, 'sip:1000@pbx.example');
    assert.equal(outcome.status, 486);
    await sippDone(pbx);
  });

  test('cancel while ringing: CANCEL reaches the PBX, 487 comes back', async () => {
    const { pbx, ua } = await setup('uas_cancel.xml', ['-m', '2']);
    const done = new Promise((resolve) => {
      const session = ua.call('sip:1000@pbx.example', { mediaStream: { getTracks: () => [] }, pcConfig: {} });
      session.on('progress', () => session.terminate());
      session.on('failed', resolve);
    });
    const e = await withTimeout(done, 10_000, 'the cancelled call');
    assert.equal(e.cause, 'Canceled');
    await sippDone(pbx);
  });

  test('PBX → browser: the PBX calls the registered browser, RTP flows, the PBX hangs up', async () => {
    const pbx = await sippPbx(['-sf', path.join(SIPP_DIR, 'register_then_call.xml'), '-rtp_echo']);
    const gw = await startRtcgate({ overrides: [`sip.pbx=udp:127.0.0.1:${pbx.port}`, 'sip.options_interval=0'] });
    await device(gw, ['add', 'alice', '--secret', 'alice-secret']);
    const { ua } = await register(gw, 'alice', 'x');
    const mark = gw.mark();
    const session = await withTimeout(incoming(ua), 10_000, 'the incoming call');
    cleanup.push(async () => {
      pbx.kill();
      await stop(ua).catch(() => {});
      await gw.stopClean();
    });
    const pc = await answer(session);
    assert.deepEqual(await pc.rtpRoundTrip(25), { sent: 25, received: 25, intact: 25 });
    const e = await withTimeout(ended(session), 10_000, 'the BYE from the PBX');
    assert.equal(e.originator, 'remote');
    await gw.waitForLog(/msg="call end" login=alice reason=bye_caller/, { after: mark });
    await sippDone(pbx);
  });
});
