// WebRTC calls through rtcgate (issue 5): Chromium's RTCPeerConnection (driven by JsSIP in Node
// through lib/pagepc.mjs) on the flow side, ICE + DTLS-SRTP to rtcgate, plain RTP to the demo
// target's echo or to sipp; TURN relay paths; hostile offers.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { addRemoteDevice, callGauges, basicAuth, ctl, getJson, metrics, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { CHROMIUM_FLAGS, PagePeerConnection, openPage, usePage } from './lib/pagepc.mjs';
import { call, ended, incoming, register, stop } from './lib/jssip.mjs';
import { SIPP_DIR, sippDone, sippPbx } from './lib/sipp.mjs';
import { noTracks } from './lib/plainpc.mjs';

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});
after(async () => {
  await browser?.close();
});

const gauges = callGauges;

/** A gateway (overrides), device alice with remote access, a page, JsSIP registered with +sip.ice. */
async function env(overrides = [], turn = false) {
  const gw = await startRtcgate({ overrides, turn });
  await addRemoteDevice(gw, 'alice', 'alice-secret');
  const page = await openPage(browser, gw);
  usePage(page);
  const { ua, result } = await register(gw, 'alice', 'x');
  assert.deepEqual(result, { registered: true });
  return {
    gw,
    page,
    ua,
    async close() {
      PagePeerConnection.sdpFilter = null;
      await stop(ua).catch(() => {});
      await page.close();
      await gw.stopClean();
    },
  };
}

/** Call target with pcConfig, assert media flows (echoed audio), hang up, check the end line. */
async function echoCall(e, target, pcConfig = {}) {
  const mark = e.gw.mark();
  const done = new Promise((resolve) => {
    const session = e.ua.call(target, { mediaStream: noTracks, pcConfig });
    session.on('confirmed', () => resolve({ session, ok: true }));
    session.on('failed', (x) => resolve({ session, ok: false, status: x.message?.status_code, cause: x.cause }));
  });
  const { session, ok, status, cause } = await withTimeout(done, 15_000, `a call to ${target}`);
  assert.ok(ok, `call failed: ${status} ${cause}`);
  const pc = PagePeerConnection.last;
  let s;
  try {
    s = await pc.mediaFlowing(50);
    assert.equal(s.connectionState, 'connected');
    assert.equal(s.dtlsState, 'connected');
    assert.match(s.srtpCipher ?? '', /AES/);
    assert.ok(s.packetsReceived > 50, `only ${s.packetsReceived} packets came back`);
    assert.ok(s.peak > 0.05 && s.audioEnergy > 0, `the echo is silent: ${JSON.stringify(s)}`);
    await e.gw.waitForLog(/msg="media connected" login=alice/, { after: mark });
    // rtcgate (ICE-lite, its own answers once connected) keeps answering Chromium's checks
    const c = await pc.checksAnswered(s.pairResponses);
    assert.ok(c.pairResponses >= s.pairResponses + 2, `checks unanswered: ${JSON.stringify(c)}`);
    assert.equal(c.iceState, 'connected');
  } finally {
    session.terminate(); // the browser's BYE, also when an assertion failed
  }
  const { line } = await e.gw.waitForLog(/msg="call end" login=alice reason=bye_caller .* srtp=SRTP_/, {
    after: mark,
  });
  // call quality (RFC 3550 A.3, A.8; G.107) with the Call-ID: loopback loses nothing
  assert.match(line, / call_id=\S+ /);
  const q = /a_loss=([\d.]+)% a_jitter_ms=([\d.]+) .* mos=([\d.]+)/.exec(line);
  assert.ok(q, `no quality on the call-end line: ${line}`);
  assert.ok(Number(q[1]) < 1, `browser leg loss ${q[1]}%`);
  assert.ok(Number(q[3]) > 4, `MOS ${q[3]}`);
  assert.deepEqual(await gauges(e.gw), { answered: 0, setup: 0, sessions: 0 });
  const m = await metrics(e.gw);
  assert.ok(m.sample('rtcgate_media_rtp_expected_total', { leg: 'a' }) > 40, line);
  assert.ok(m.sample('rtcgate_media_quality_total', { mos: 'good' }) >= 1);
  return s;
}

describe('Chromium calls the demo echo', () => {
  let e;
  before(async () => {
    e = await env();
  });
  after(async () => {
    await e?.close();
  });

  test('ICE + DTLS-SRTP to rtcgate, plain RTP to echo: the tone comes back, BYE ends it', async () => {
    await echoCall(e, 'sip:echo@pbx.example');
  });

  test('an offer without ICE credentials gets 488 with a reason, nothing is left', async () => {
    PagePeerConnection.sdpFilter = (sdp) => sdp.replace(/^a=ice-(ufrag|pwd):.*\r\n/gm, '');
    const { outcome } = await call(e.ua, 'sip:echo@pbx.example');
    PagePeerConnection.sdpFilter = null;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.status, 488);
    await e.gw.waitForLog(/msg="webrtc sdp refused" login=alice step=offer_from_web .*reason="[^"]+"/);
    assert.deepEqual(await gauges(e.gw), { answered: 0, setup: 0, sessions: 0 });
  });

  test('a wrong fingerprint: DTLS is refused, rtcgate ends the call with a Reason', async () => {
    const mark = e.gw.mark();
    // one digit of the digest changed: the certificate Chromium presents no longer matches
    PagePeerConnection.sdpFilter = (sdp) =>
      sdp.replace(/^(a=fingerprint:sha-256 )(.)/m, (_, a, d) => a + (d === 'A' ? 'B' : 'A'));
    const { session, outcome } = await call(e.ua, 'sip:echo@pbx.example');
    PagePeerConnection.sdpFilter = null;
    assert.deepEqual(outcome, { ok: true });
    const end = await withTimeout(ended(session), 20_000, 'the BYE after the DTLS failure');
    assert.equal(end.originator, 'remote');
    assert.match(end.message?.getHeader('Reason') ?? '', /WebRTC media failed/);
    await e.gw.waitForLog(/msg="call end" login=alice reason=media_failed/, { after: mark });
    assert.deepEqual(await gauges(e.gw), { answered: 0, setup: 0, sessions: 0 });
  });
});

describe('Chromium through rtcgate TURN only (iceTransportPolicy relay)', () => {
  let e;
  before(async () => {
    // the flow comes from 127.0.0.1, so rtcgate's ICE candidate is 127.0.0.1 too, which
    // turn.allowed_peers=self (the host's media addresses) does not cover: name it
    e = await env(['turn.secrets=webrtc-calls-secret', 'turn.allowed_peers=127.0.0.1:10000-20000'], true);
  });
  after(async () => {
    await e?.close();
  });

  for (const transport of ['udp', 'tcp']) {
    test(`the echo call's media goes through a TURN relay over ${transport.toUpperCase()}`, async () => {
      const auth = basicAuth('alice', 'alice-secret');
      const cfg = (await getJson(e.gw, '/config', { headers: { authorization: auth } })).json;
      const turn = cfg.iceServers.filter((s) => s.urls[0].startsWith('turn:') && s.urls[0].endsWith(`?transport=${transport}`));
      assert.equal(turn.length, 1, JSON.stringify(cfg.iceServers));
      const s = await echoCall(e, 'sip:echo@pbx.example', { iceServers: turn, iceTransportPolicy: 'relay' });
      assert.equal(s.localType, 'relay');
      assert.equal(s.localProtocol, transport);
    });
  }
});

describe('Chromium and sipp as the PBX', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  async function withPbx(scenario, extra) {
    const pbx = await sippPbx(['-sf', path.join(SIPP_DIR, scenario), ...extra]);
    const e = await env([`sip.pbx=udp:127.0.0.1:${pbx.port}`, 'sip.options_interval=0']);
    cleanup.push(async () => {
      pbx.kill();
      await e.close();
    });
    return { pbx, e };
  }

  test('browser → sipp UAS (-rtp_echo): audio comes back through both legs', async () => {
    const { pbx, e } = await withPbx('uas_answer.xml', ['-m', '2', '-rtp_echo']);
    await echoCall(e, 'sip:1000@pbx.example');
    await sippDone(pbx);
  });

  test('sipp → registered browser: rtcgate offers WebRTC, the page answers, the PBX hangs up', async () => {
    const { pbx, e } = await withPbx('register_then_call.xml', ['-rtp_echo']);
    const mark = e.gw.mark();
    const session = await withTimeout(incoming(e.ua), 10_000, 'the incoming call');
    assert.match(session._request.body, /UDP\/TLS\/RTP\/SAVPF/);
    assert.match(session._request.body, /a=setup:actpass/);
    const confirmed = new Promise((resolve) => session.once('confirmed', resolve));
    session.answer({ mediaStream: noTracks, pcConfig: {} });
    await withTimeout(confirmed, 10_000, 'the answered call');
    const s = await PagePeerConnection.last.mediaFlowing(25);
    assert.equal(s.dtlsState, 'connected');
    assert.ok(s.packetsReceived > 25 && s.peak > 0.05, JSON.stringify(s));
    const end = await withTimeout(ended(session), 15_000, 'the BYE from the PBX');
    assert.equal(end.originator, 'remote');
    await e.gw.waitForLog(/msg="call end" login=alice reason=bye_caller .* srtp=SRTP_/, { after: mark });
    await sippDone(pbx);
  });
});
