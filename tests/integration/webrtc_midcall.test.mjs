// Mid-call changes of a WebRTC call (issue 5): Chromium (driven by JsSIP in Node through
// lib/pagepc.mjs) calls sipp as the PBX (uas_midcall.xml) whose media is an RTP peer of this
// test on 127.0.0.1 that records and echoes what comes. Hold and resume from the browser, an
// ICE restart re-offer, RFC 4733 DTMF, hold and resume from the PBX, BYE from the PBX; the
// stream toward the PBX keeps its SSRC, sequence numbers and timestamps through all of it.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { addRemoteDevice, metrics, startRtcgate, until, withTimeout } from './lib/rtcgate.mjs';
import { CHROMIUM_FLAGS, PagePeerConnection, openPage, usePage } from './lib/pagepc.mjs';
import { call, ended, register, stop } from './lib/jssip.mjs';
import { SIPP_DIR, sippDone, sippPbx } from './lib/sipp.mjs';

const WAIT_MS = 10_000;

/** The PBX's media: RTP from rtcgate recorded ({pt, ssrc, seq, ts, event, at}) and echoed. */
async function rtpPeer() {
  const sock = dgram.createSocket('udp4');
  const got = [];
  sock.on('message', (buf, from) => {
    if (buf.length < 12 || buf[0] >> 6 !== 2) return;
    const pt = buf[1] & 0x7f;
    if (pt >= 72 && pt <= 79) return; /* RTCP on the RTP port */
    got.push({ pt, seq: buf.readUInt16BE(2), ts: buf.readUInt32BE(4), ssrc: buf.readUInt32BE(8), event: buf[12], at: Date.now() });
    sock.send(buf, from.port, from.address);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return { port: sock.address().port, got, close: () => sock.close() };
}

/** A check for until(): true once count() did not change for ms. */
function quiet(count, ms) {
  let last = -1;
  let since = 0;
  return async () => {
    const n = await count();
    if (n !== last) [last, since] = [n, Date.now()];
    return Date.now() - since >= ms;
  };
}

/** Resolve when a JsSIP action with a completion callback (hold, unhold, renegotiate) is done. */
function completes(what, start) {
  return withTimeout(new Promise((resolve) => assert.ok(start(resolve), `${what} was refused`)), WAIT_MS, what);
}

/** The audio packets toward the PBX are one stream: one SSRC, sequence and timestamps going on. */
function continuous(got, what) {
  const audio = got.filter((p) => p.pt === 0);
  assert.ok(audio.length > 100, `${what}: only ${audio.length} audio packets`);
  const ssrcs = new Set(audio.map((p) => p.ssrc));
  assert.equal(ssrcs.size, 1, `${what}: SSRC changed: ${[...ssrcs]}`);
  for (let i = 1; i < audio.length; i++) {
    const dseq = (audio[i].seq - audio[i - 1].seq + 0x10000) & 0xffff;
    const dts = (audio[i].ts - audio[i - 1].ts + 2 ** 32) % 2 ** 32;
    /* reordering aside, the sequence goes on (no reset) and time never runs backwards far */
    assert.ok(dseq >= 1 && dseq < 1000, `${what}: seq ${audio[i - 1].seq} → ${audio[i].seq}`);
    assert.ok(dts < 8000 * 60, `${what}: timestamp ${audio[i - 1].ts} → ${audio[i].ts}`);
  }
}

describe('mid-call changes between Chromium and sipp as the PBX', () => {
  let browser;
  let page;
  let gw;
  let pbx;
  let peer;
  let ua;
  let session;
  let pc;
  before(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
    peer = await rtpPeer();
    pbx = await sippPbx(['-sf', path.join(SIPP_DIR, 'uas_midcall.xml'), '-m', '2', '-key', 'rtp_port', String(peer.port)]);
    gw = await startRtcgate({ overrides: [`sip.pbx=udp:127.0.0.1:${pbx.port}`, 'sip.options_interval=0'] });
    await addRemoteDevice(gw, 'alice', 'alice-secret');
    page = await openPage(browser, gw);
    usePage(page);
    let result;
    ({ ua, result } = await register(gw, 'alice', 'x'));
    assert.deepEqual(result, { registered: true });
    let outcome;
    ({ session, outcome } = await call(ua, 'sip:1000@pbx.example'));
    assert.deepEqual(outcome, { ok: true });
    pc = PagePeerConnection.last;
    const s = await pc.mediaFlowing(25);
    assert.ok(s.packetsReceived > 25 && s.peak > 0.05, `no echo before the changes: ${JSON.stringify(s)}`);
  });
  after(async () => {
    pbx?.kill();
    peer?.close();
    if (ua) await stop(ua).catch(() => {});
    await page?.close();
    await browser?.close();
    await gw?.stopClean();
  });

  const received = async () => (await pc.stats()).packetsReceived;
  const toPbx = () => peer.got.length;

  test('hold from the browser: sipp gets a=sendonly and answers recvonly; no audio comes back until resume', async () => {
    const mark = gw.mark();
    await completes('hold', (done) => session.hold({}, done));
    await gw.waitForLog(/msg="webrtc sdp" login=alice step=answer_to_web /, { after: mark });
    assert.equal((await pc.stats()).direction, 'sendonly', 'the recvonly answer did not reach the page');
    const held = await received();
    await until(quiet(received, 600), 'the echo to stop while held');
    /* the browser still sends: its packets reach the PBX while nothing comes back */
    const sent = toPbx();
    await until(() => toPbx() > sent + 50, 'the held browser to keep sending');
    assert.ok((await received()) - held < 10, 'audio came back while held');
    const before = await received();
    await completes('unhold', (done) => session.unhold({}, done));
    assert.equal((await pc.stats()).direction, 'sendrecv');
    await until(async () => (await received()) > before + 25, 'the echo after the resume');
  });

  test('ICE restart: pc.restartIce() and a re-INVITE give new credentials both ways; media goes on', async () => {
    const mark = gw.mark();
    const ufrag = (await pc.stats()).ufrag;
    const ours = () => /^a=ice-ufrag:(.*)$/m.exec(pc.remoteDescription.sdp)?.[1];
    const oldOurs = ours();
    await pc.restartIce();
    await completes('the ICE restart re-INVITE', (done) => session.renegotiate({}, done));
    await gw.waitForLog(/msg="ice restart" login=alice/, { after: mark });
    const s = await pc.stats();
    assert.notEqual(s.ufrag, ufrag, 'the page offered its old ICE credentials');
    assert.ok(ours() && ours() !== oldOurs, `rtcgate answered with ufrag ${ours()} (was ${oldOurs})`);
    assert.equal(s.connectionState, 'connected', 'the connection did not come back');
    const before = await received();
    await until(async () => (await received()) > before + 50, 'the echo after the ICE restart');
    continuous(peer.got, 'after the ICE restart');
  });

  test('DTMF: sendDTMF (RFC2833) reaches the PBX as telephone-event 101 with the digit', async () => {
    const from = peer.got.length;
    session.sendDTMF('5', { transportType: 'RFC2833', duration: 200 });
    assert.equal(await withTimeout(pc.lastTone, WAIT_MS, 'the page to play the tone'), '5');
    const events = () => peer.got.slice(from).filter((p) => p.pt === 101);
    await until(() => events().length > 0, 'telephone-event packets at the PBX');
    const ev = events();
    assert.ok(ev.length > 0 && ev.every((p) => p.event === 5), `events: ${JSON.stringify(ev.slice(0, 3))}`);
    /* the events ride in the audio stream: same SSRC */
    const audio = peer.got.find((p) => p.pt === 0);
    assert.equal(ev[0].ssrc, audio.ssrc, 'telephone-event in another SSRC');
  });

  test('hold from the PBX: the browser gets a sendonly re-offer, answers recvonly and stops sending; resume', async () => {
    let mark = gw.mark();
    const held = new Promise((resolve) => session.once('hold', resolve));
    session.sendInfo('application/x-rtcgate-test', 'hold');
    const h = await withTimeout(held, WAIT_MS, 'the PBX hold');
    assert.equal(h.originator, 'remote');
    await gw.waitForLog(/msg="webrtc sdp" login=alice step=answer_from_web /, { after: mark });
    await until(async () => (await pc.stats()).direction === 'recvonly', 'the page to answer recvonly');
    await until(quiet(toPbx, 600), 'the browser to stop sending toward the PBX');
    mark = gw.mark();
    const resumed = new Promise((resolve) => session.once('unhold', resolve));
    session.sendInfo('application/x-rtcgate-test', 'resume');
    await withTimeout(resumed, WAIT_MS, 'the PBX resume');
    await gw.waitForLog(/msg="webrtc sdp" login=alice step=answer_from_web /, { after: mark });
    const sent = toPbx();
    await until(() => toPbx() > sent + 50, 'media toward the PBX after its resume');
    continuous(peer.got, 'through hold, ICE restart, DTMF and the PBX hold');
  });

  test('BYE from the PBX: the browser hears it, the gauges go back to 0', async () => {
    const mark = gw.mark();
    const end = ended(session);
    session.sendInfo('application/x-rtcgate-test', 'bye');
    const e = await withTimeout(end, WAIT_MS, 'the BYE from the PBX');
    assert.equal(e.originator, 'remote');
    await gw.waitForLog(/msg="call end" login=alice reason=bye_callee .* srtp=SRTP_/, { after: mark });
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_sip_calls', { state: 'answered' }), 0);
    assert.equal(m.sample('rtcgate_media_sessions'), 0);
    await sippDone(pbx);
  });
});
