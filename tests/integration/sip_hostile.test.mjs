// Hostile SIP while a call is up (issue 4, "other calls unaffected"): malformed, truncated and
// oversized messages, wrong Content-Length, an INVITE before REGISTER, a disabled device's
// REGISTER and a burst of connects, each on flows of their own; the call in progress keeps
// its media and hangs up cleanly.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { ctl, metrics, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { call, register, stop } from './lib/jssip.mjs';
import { badRequest, connectBurst, flowsSettle, rawFlow } from './lib/sipraw.mjs';

async function device(gw, args) {
  const r = await ctl(gw, ['device', ...args]);
  assert.equal(r.code, 0, r.stderr);
}

const dropped = async (gw) => (await metrics(gw)).sample('rtcgate_sip_dropped_total', { reason: 'malformed' }) ?? 0;

describe('an echo call survives hostile flows beside it', () => {
  let gw;
  let ua;
  let session;
  let pc;
  before(async () => {
    gw = await startRtcgate();
    await device(gw, ['add', 'alice', '--secret', 'alice-secret']);
    await device(gw, ['add', 'bob', '--secret', 'bob-secret']);
    await device(gw, ['disable', 'bob']);
    ({ ua } = await register(gw, 'alice', 'x'));
    let outcome;
    ({ session, outcome, pc } = await call(ua, 'sip:echo@pbx.example'));
    assert.deepEqual(outcome, { ok: true });
    assert.deepEqual(await pc.rtpRoundTrip(20), { sent: 20, received: 20, intact: 20 });
  });
  after(async () => {
    if (ua) await stop(ua);
    await gw?.stopClean();
  });

  test('garbage, a truncated message and a message without a Call-ID are dropped and counted', async () => {
    const { ws, next } = await rawFlow(gw);
    const before = await dropped(gw);
    ws.send(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01])); // a TLS record, binary frame
    ws.send('\x00\x01 not sip at all');
    ws.send(badRequest(['Call-ID: cut1', 'CSeq: 1 OPTIONS']).slice(0, 90)); // cut inside the Via
    ws.send(badRequest(['CSeq: 1 OPTIONS']));
    ws.send(badRequest(['Call-ID: fine1', 'CSeq: 1 OPTIONS']));
    assert.match(await next(), /^SIP\/2.0 200 OK\r\n[^]*Call-ID: fine1\r\n/);
    assert.ok((await dropped(gw)) - before >= 3, 'malformed messages counted');
    ws.close();
  });

  test('wrong Content-Length and a malformed CSeq get 400 with a reason', async () => {
    const { ws, next } = await rawFlow(gw);
    ws.send(badRequest(['Call-ID: cl2', 'CSeq: 1 OPTIONS']).replace('Content-Length: 0', 'Content-Length: 9999'));
    assert.match(await next(), /^SIP\/2.0 400 Content-Length larger than the body\r\n/);
    ws.send(badRequest(['Call-ID: cseq2', 'CSeq: 99999999999 OPTIONS']));
    assert.match(await next(), /^SIP\/2.0 400 [^\r\n]+\r\n[^]*Call-ID: cseq2\r\n/);
    ws.close();
  });

  test('huge headers: 1,000 header lines are answered, a message over the limit closes only its flow', async () => {
    const { ws, next } = await rawFlow(gw);
    const many = Array.from({ length: 1000 }, (_, i) => `X-Pad-${i}: ${'p'.repeat(20)}`);
    ws.send(badRequest(['Call-ID: many1', 'CSeq: 1 OPTIONS', ...many]));
    assert.match(await next(), /^SIP\/2.0 200 OK\r\n[^]*Call-ID: many1\r\n/);
    const closed = once(ws, 'close');
    ws.send(badRequest(['Call-ID: big2', 'CSeq: 1 OPTIONS', `Subject: ${'s'.repeat(70_000)}`]));
    const [code] = await withTimeout(closed, 3000, 'the oversized flow to close');
    assert.equal(code, 1009);
  });

  test('an INVITE before REGISTER and a disabled device get 403 and register nothing', async () => {
    const { ws, next } = await rawFlow(gw);
    const invite = badRequest(['Call-ID: inv1', 'CSeq: 1 INVITE', 'Contact: <sip:x@client.invalid;transport=ws>'], 'INVITE sip:echo@pbx.example SIP/2.0');
    ws.send(invite);
    assert.match(await next(), /^SIP\/2.0 403 Register first\r\n/);
    const reg = badRequest(
      ['Call-ID: reg1', 'CSeq: 1 REGISTER', 'Contact: <sip:x@client.invalid;transport=ws>', 'Expires: 600'],
      'REGISTER sip:pbx.example SIP/2.0',
    ).replace(/sip:alice@/g, 'sip:bob@').replace('To: <sip:pbx.example>', 'To: <sip:bob@pbx.example>');
    ws.send(reg);
    assert.match(await next(), /^SIP\/2.0 403 /);
    assert.equal((await metrics(gw)).sample('rtcgate_sip_registrations'), 1, 'only alice is registered');
    ws.close();
  });

  test('300 connects dropped at once leave no flow behind', async () => {
    const openBefore = (await metrics(gw)).sample('rtcgate_ws_connections');
    const flows = await connectBurst(gw, 300);
    flows.forEach((ws) => ws.terminate());
    assert.equal(await flowsSettle(gw, openBefore), openBefore, 'flows left open');
  });

  test('afterwards the call still echoes every packet and hangs up cleanly', async () => {
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_sip_calls', { state: 'answered' }), 1);
    assert.deepEqual(await pc.rtpRoundTrip(50), { sent: 50, received: 50, intact: 50 });
    const mark = gw.mark();
    session.terminate();
    await gw.waitForLog(/msg="call end" login=alice reason=bye_caller/, { after: mark });
    assert.equal((await metrics(gw)).sample('rtcgate_media_sessions'), 0);
  });
});
