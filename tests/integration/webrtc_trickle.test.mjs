// Trickle ICE over SIP (RFC 8840): Chromium offers before gathering is done (no candidates), the
// test's own SIP-over-WebSocket client (JsSIP does not trickle) sends the INVITE to the demo echo
// and then each candidate in an INFO of the trickle-ice package; media must flow with rtcgate in
// ICE-lite and in full ICE mode. Hostile fragments and a trickle INFO on a plain call are refused.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { WebSocket } from 'ws';
import { addRemoteDevice, callGauges, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { CHROMIUM_FLAGS, PagePeerConnection, openPage, usePage } from './lib/pagepc.mjs';

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
});
after(async () => {
  await browser?.close();
});

const rnd = () => Math.random().toString(36).slice(2);

/** A raw SIP client on one WebSocket flow: requests out, messages in, awaited by predicate. */
async function sipClient(gw) {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.httpPort}/sip`, 'sip');
  await once(ws, 'open');
  const inbox = [];
  let wake = () => {};
  ws.on('message', (d) => {
    inbox.push(d.toString());
    wake();
  });
  const header = (msg, name) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(msg)?.[1];
  /** The next message for which pred holds (bounded by the timeout). */
  async function wait(pred, what, ms = 5000) {
    const found = async () => {
      for (;;) {
        const i = inbox.findIndex(pred);
        if (i >= 0) return inbox.splice(i, 1)[0];
        await new Promise((r) => (wake = r));
      }
    };
    return withTimeout(found(), ms, what);
  }
  const send = (lines, body = '') =>
    ws.send([...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
  return { ws, header, wait, send };
}

/** A dialog from alice to echo: INVITE (offer), final answer, ACK, INFOs, BYE. */
function dialog(sip, callId) {
  const tag = rnd();
  let cseq = 1;
  let toTag = '';
  const common = (method, n) => [
    `Via: SIP/2.0/WSS client.invalid;branch=z9hG4bK${rnd()}`,
    'Max-Forwards: 70',
    `From: <sip:alice@pbx.example>;tag=${tag}`,
    `To: <sip:echo@pbx.example>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${callId}`,
    `CSeq: ${n} ${method}`,
    'Contact: <sip:alice@client.invalid;transport=ws>',
  ];
  const answerTo = (method, n) => (m) =>
    m.startsWith('SIP/2.0 ') && !/^SIP\/2.0 1\d\d /.test(m) && m.includes(`Call-ID: ${callId}`) &&
    new RegExp(`^CSeq: ${n} ${method}`, 'm').test(m);
  return {
    async invite(sdp) {
      sip.send(['INVITE sip:echo@pbx.example SIP/2.0', ...common('INVITE', cseq), 'Supported: trickle-ice',
        'Recv-Info: trickle-ice', 'Content-Type: application/sdp'], sdp);
      const ok = await sip.wait(answerTo('INVITE', cseq), 'the final answer to the INVITE', 10_000);
      toTag = /^To:.*;tag=([^;\s]+)/m.exec(ok)?.[1] ?? '';
      if (/^SIP\/2.0 2/.test(ok)) sip.send(['ACK sip:echo@pbx.example SIP/2.0', ...common('ACK', cseq)]);
      cseq++;
      return ok;
    },
    async request(method, headers = [], body = '') {
      const n = cseq++;
      sip.send([`${method} sip:echo@pbx.example SIP/2.0`, ...common(method, n), ...headers], body);
      return sip.wait(answerTo(method, n), `the answer to ${method} ${n}`);
    },
  };
}

const INFO_TRICKLE = ['Info-Package: trickle-ice', 'Content-Type: application/trickle-ice-sdpfrag'];

/** RFC 8840 §9 fragment: the generation's credentials, the m= line and mid, candidate lines. */
const fragment = (ufrag, pwd, lines) =>
  [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`, 'm=audio 9 UDP/TLS/RTP/SAVPF 0', 'a=mid:0', ...lines, ''].join('\r\n');

const gauges = callGauges;

/** A gateway in mode, alice registered on a raw flow, a page. */
async function env(mode) {
  const gw = await startRtcgate({ overrides: [`media.ice_mode=${mode}`] });
  await addRemoteDevice(gw, 'alice', 'alice-secret');
  const sip = await sipClient(gw);
  sip.send(['REGISTER sip:pbx.example SIP/2.0', `Via: SIP/2.0/WSS client.invalid;branch=z9hG4bK${rnd()}`,
    'Max-Forwards: 70', 'From: <sip:alice@pbx.example>;tag=r1', 'To: <sip:alice@pbx.example>', `Call-ID: reg-${rnd()}`,
    'CSeq: 1 REGISTER', 'Contact: <sip:alice@client.invalid;transport=ws>;+sip.ice', 'Expires: 600']);
  const reg = await sip.wait((m) => /CSeq: 1 REGISTER/.test(m), 'the answer to REGISTER');
  assert.match(reg, /^SIP\/2.0 200 /);
  const page = await openPage(browser, gw);
  usePage(page);
  return { gw, sip, page, async close() { sip.ws.close(); await page.close(); await gw.stopClean(); } };
}

/** The candidates the page gathered, once it says gathering is over (bounded). */
async function gathered(pc) {
  for (let i = 0; i < 100; i++) {
    const t = await pc.page.evaluate((id) => window.rtcgateTest.trickled(id), pc.id);
    if (t.includes(null)) return t.filter((c) => c);
    await new Promise((r) => setTimeout(r, 100)); // polling interval, bounded by the loop
  }
  throw new Error('ICE gathering did not complete');
}

async function trickleCall(e, hostile = false) {
  const mark = e.gw.mark();
  const pc = new PagePeerConnection({});
  await pc.ready;
  const offer = await e.page.evaluate((id) => window.rtcgateTest.trickleOffer(id), pc.id);
  assert.match(offer, /^a=ice-options:trickle/m, 'Chromium offers trickle');
  const sdp = offer.replace(/^a=(candidate|end-of-candidates).*\r\n/gm, '');
  const ufrag = /^a=ice-ufrag:(.*)$/m.exec(sdp)[1];
  const pwd = /^a=ice-pwd:(.*)$/m.exec(sdp)[1];
  const d = dialog(e.sip, `trickle-${rnd()}`);
  const ok = await d.invite(sdp);
  assert.match(ok, /^SIP\/2.0 200 /);
  assert.match(ok, /^Recv-Info: trickle-ice/m, 'rtcgate takes trickle-ice INFO (RFC 8840 §4.1)');
  assert.match(ok, /^Supported:.*trickle-ice/m);
  await pc.setRemoteDescription({ type: 'answer', sdp: ok.slice(ok.indexOf('\r\n\r\n') + 4) });
  const cands = await gathered(pc);
  assert.ok(cands.length > 0, 'Chromium gathered candidates');
  if (hostile) {
    const bad = await d.request('INFO', INFO_TRICKLE, fragment(ufrag, pwd, ['a=candidate:1 1 udp 1 192.0.2.1 99999 typ host']));
    assert.match(bad, /^SIP\/2.0 400 Bad a=candidate\r\n/);
    const wrongPkg = await d.request('INFO', ['Info-Package: foo', 'Content-Type: application/trickle-ice-sdpfrag'], fragment(ufrag, pwd, []));
    assert.match(wrongPkg, /^SIP\/2.0 469 /);
    const stale = await d.request('INFO', INFO_TRICKLE, fragment('Old0', pwd, [`a=${cands[0]}`]));
    assert.match(stale, /^SIP\/2.0 200 /, 'another generation is ignored (RFC 8838 §13)');
    await e.gw.waitForLog(/msg="trickle ignored" login=alice/, { after: mark });
  }
  for (const c of cands) {
    const r = await d.request('INFO', INFO_TRICKLE, fragment(ufrag, pwd, [`a=${c}`]));
    assert.match(r, /^SIP\/2.0 200 /, `the candidate ${c}`);
  }
  const end = await d.request('INFO', INFO_TRICKLE, fragment(ufrag, pwd, ['a=end-of-candidates']));
  assert.match(end, /^SIP\/2.0 200 /);
  await e.gw.waitForLog(/msg="trickle candidate" login=alice media=\d+ cand="udp /, { after: mark });
  await e.gw.waitForLog(/msg="trickle" login=alice .* end=yes/, { after: mark });
  const s = await pc.mediaFlowing(50);
  assert.equal(s.connectionState, 'connected');
  assert.ok(s.packetsReceived > 50, `only ${s.packetsReceived} packets came back`);
  assert.ok(s.peak > 0.05 && s.audioEnergy > 0, `the echo is silent: ${JSON.stringify(s)}`);
  await e.gw.waitForLog(/msg="media connected" login=alice/, { after: mark });
  assert.match(await d.request('BYE'), /^SIP\/2.0 200 /);
  await e.gw.waitForLog(/msg="call end" login=alice reason=bye_caller/, { after: mark });
  pc.close();
  assert.deepEqual(await gauges(e.gw), { answered: 0, setup: 0, sessions: 0 });
}

for (const mode of ['lite', 'full']) {
  describe(`trickle ICE over SIP INFO, media.ice_mode=${mode}`, () => {
    let e;
    before(async () => {
      e = await env(mode);
    });
    after(async () => {
      await e?.close();
    });

    test('an offer with no candidates, candidates in INFOs: 200 each, media flows both ways', async () => {
      await trickleCall(e);
    });

    test('a malformed fragment gets 400, a wrong package 469, a stale ufrag is ignored; the call goes on', async () => {
      await trickleCall(e, true);
    });
  });
}

describe('trickle INFO on a call without a WebRTC leg', () => {
  let e;
  before(async () => {
    e = await env('lite');
  });
  after(async () => {
    await e?.close();
  });

  test('a plain RTP call refuses trickle-ice INFO with 469, relays nothing, hangs up cleanly', async () => {
    const mark = e.gw.mark();
    const d = dialog(e.sip, `plain-${rnd()}`);
    const plain = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
      'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
    const ok = await d.invite(plain);
    assert.match(ok, /^SIP\/2.0 200 /);
    assert.doesNotMatch(ok, /^Recv-Info: trickle-ice/m);
    const r = await d.request('INFO', INFO_TRICKLE, fragment('EsAw', 'P2uYro0UCOQ4zxjKXaWCBui1', ['a=end-of-candidates']));
    assert.match(r, /^SIP\/2.0 469 /);
    await e.gw.waitForLog(/msg="trickle refused" login=alice code=469/, { after: mark });
    assert.match(await d.request('BYE'), /^SIP\/2.0 200 /);
    await e.gw.waitForLog(/msg="call end" login=alice reason=bye_caller/, { after: mark });
    assert.deepEqual(await gauges(e.gw), { answered: 0, setup: 0, sessions: 0 });
  });
});
