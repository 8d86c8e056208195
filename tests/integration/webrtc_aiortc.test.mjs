// A non-browser WebRTC stack calls through rtcgate (issue 5): Python's aiortc (ICE, DTLS-SRTP)
// with SIP over WebSocket from lib/aiortc_call.py calls the demo echo, sends a tone and counts
// the frames that come back.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ctl, metrics, run, startRtcgate } from './lib/rtcgate.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'aiortc_call.py');
let gw;

before(async () => {
  gw = await startRtcgate();
  const r = await ctl(gw, ['device', 'add', 'bob', '--secret', 'bob-secret-1']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await gw?.stopClean();
});

test('aiortc calls echo: its tone comes back over DTLS-SRTP, BYE ends the call', async () => {
  const mark = gw.mark();
  const { code, stdout, stderr } = await run(
    '/usr/bin/python3',
    [SCRIPT, `ws://127.0.0.1:${gw.httpPort}/sip`, 'bob', 'bob-secret-1', 'sip:echo@pbx.example', '50'],
    60_000,
  );
  assert.equal(code, 0, stderr.slice(-3000));
  const out = JSON.parse(stdout.trim().split('\n').pop());
  assert.equal(out.registered, 200);
  assert.equal(out.status, 200, out.reason);
  assert.equal(out.dtls, 'connected');
  assert.ok(out.frames >= 50, `only ${out.frames} frames came back`);
  assert.equal(out.bye, 200);
  await gw.waitForLog(/msg="call end" login=bob reason=bye_caller .* srtp=SRTP_/, { after: mark });
  const m = await metrics(gw);
  assert.equal(m.sample('rtcgate_sip_calls', { state: 'answered' }), 0);
  assert.equal(m.sample('rtcgate_media_sessions'), 0);
});
