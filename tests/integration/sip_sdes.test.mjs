// SDES-SRTP toward the PBX (issue 5 scope 4, RFC 4568): a Node TLS PBX with srtp=sdes answers
// RTP/SAVP with a=crypto and hands the media to an SRTP echo on libsrtp2 (python pylibsrtp);
// aiortc calls through rtcgate over WebRTC and hears its audio back. A PBX that answers without
// a=crypto gets the call refused (488 to the caller, ACK and BYE to the PBX); srtp=sdes on udp:
// fails the config check.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BIN, ctl, metrics, run, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { streamPbx } from './lib/streampbx.mjs';
import { makeCerts } from './lib/testcerts.mjs';

const LIB = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib');
const PBX_KEY = Buffer.from(Array.from({ length: 30 }, (_, i) => (i * 37 + 11) & 0xff)).toString('base64');

/** The SRTP echo: {port, result (a promise of its last line), stop}. */
async function srtpEcho(theirKey) {
  const child = spawn('/usr/bin/python3', [path.join(LIB, 'srtp_echo.py'), theirKey, PBX_KEY], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const first = await withTimeout(once(lines, 'line'), 10_000, 'the SRTP echo to bind');
  const result = new Promise((resolve) => lines.on('line', (l) => resolve(JSON.parse(l))));
  return {
    port: JSON.parse(first[0]).port,
    result,
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
  if (sdp) lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(sdp)}`, '', '');
  return lines.join('\r\n') + sdp;
}

/** The PBX's answer: the first of PCMU/PCMA rtcgate offered, on port, RTP/SAVP + crypto or not. */
function answerSdp(invite, port, crypto) {
  const m = /^m=audio \d+ (\S+) ([\d ]+)$/m.exec(invite);
  const pt = m[2].split(' ').find((p) => p === '0' || p === '8');
  return [
    'v=0', 'o=pbx 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} ${crypto ? 'RTP/SAVP' : 'RTP/AVP'} ${pt}`,
    ...(crypto ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${PBX_KEY}`] : []),
    'a=sendrecv', '',
  ].join('\r\n');
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

describe('a TLS PBX with srtp=sdes', () => {
  let certs, pbx, gw;
  before(async () => {
    certs = makeCerts();
    pbx = await streamPbx({ tlsOptions: { key: certs.key, cert: certs.cert } });
    gw = await startRtcgate({
      overrides: [`sip.pbx=tls:127.0.0.1:${pbx.port};srtp=sdes`, `sip.tls_ca=${certs.ca}`, 'sip.options_interval=0'],
    });
    const r = await ctl(gw, ['device', 'add', 'bob', '--secret', 'bob-secret-1']);
    assert.equal(r.code, 0, r.stderr);
    pbx.on('request', (t) => {
      if (/^BYE /.test(t)) pbx.write(respond(t, '200 OK'));
    });
  });
  after(async () => {
    await gw?.stopClean();
    await pbx?.close();
    fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  test('offer RTP/SAVP with a fresh a=crypto; the SRTP echo verifies it and aiortc hears itself', async () => {
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
    const ours = /inline:([A-Za-z0-9+/]{40})/.exec(invite)[1];
    const leaked = gw.stderrLines.filter((l) => l.includes(ours) || l.includes(PBX_KEY));
    assert.deepEqual(leaked, []);
  });

  test('the PBX answers RTP/AVP without a=crypto: 488 "No usable a=crypto" to the caller, ACK and BYE to the PBX', async () => {
    const mark = gw.mark();
    const seen = pbx.requests.length;
    const invites = [];
    const onInvite = (t) => {
      if (/^INVITE /.test(t)) {
        invites.push(t);
        pbx.write(respond(t, '200 OK', answerSdp(t, 40000, false)));
      }
    };
    pbx.on('request', onInvite);
    const out = await aiortcCall(gw, 1);
    pbx.off('request', onInvite);
    assert.equal(invites.length, 1);
    assert.equal(out.status, 488);
    assert.match(out.reason, /No usable a=crypto/);
    const callId = header(invites[0], 'Call-ID');
    const inDialog = (method) => (t) => t.startsWith(`${method} `) && header(t, 'Call-ID') === callId;
    await withTimeout(pbx.request(/^ACK /), 5000, 'the ACK of the 2xx');
    assert.ok(pbx.requests.slice(seen).some(inDialog('ACK')), 'the 2xx was ACKed');
    await withTimeout(pbx.request(/^BYE /), 5000, 'the BYE');
    assert.ok(pbx.requests.slice(seen).some(inDialog('BYE')), 'the PBX got a BYE for the call');
    await gw.waitForLog(/msg="pbx srtp refused" login=bob reason="[^"]+"/, { after: mark });
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_media_sessions'), 0);
  });
});

test('srtp=sdes on a udp: target fails --check-config', async () => {
  const r = await run(BIN, ['-o', 'sip.pbx=udp:127.0.0.1:5060;srtp=sdes', '--check-config']);
  assert.equal(r.code, 1);
  assert.match(r.stderr + r.stdout, /sip\.pbx.*srtp=sdes.*tls/);
  const ok = await run(BIN, ['-o', 'sip.pbx=tls:127.0.0.1:5061;srtp=sdes', '--check-config']);
  assert.equal(ok.code, 0, ok.stderr);
});
