// SIP over WebSocket (RFC 7118) through rtcgate: JsSIP registering to the built-in demo target
// and to sipp as the PBX (digest challenges passed through), device gating, hostile messages.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { REPO, ctl, freeUdpPort, metrics, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { register, stop } from './lib/jssip.mjs';
import { badRequest, connectBurst, flowsSettle, rawFlow } from './lib/sipraw.mjs';

const SIPP_DIR = path.join(REPO, 'tests', 'fixtures', 'sipp');

async function device(gw, args) {
  const r = await ctl(gw, ['device', ...args]);
  assert.equal(r.code, 0, r.stderr);
}

describe('with the built-in demo target', () => {
  let gw;
  before(async () => {
    gw = await startRtcgate();
    await device(gw, ['add', 'alice', '--secret', 'alice-secret']);
    await device(gw, ['add', 'carol', '--secret', 'carol-secret']);
    await device(gw, ['disable', 'carol']);
  });
  after(async () => gw?.stopClean());

  test('an enabled device registers; it is counted while registered', async () => {
    const { ua, result } = await register(gw, 'alice', 'anything');
    assert.deepEqual(result, { registered: true });
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_sip_registrations'), 1);
    assert.ok(m.sample('rtcgate_sip_register_total', { result: 'ok' }) >= 1);
    await stop(ua);
  });

  test('a login that is no device, and a disabled device, get 403 and never reach the PBX', async () => {
    for (const user of ['mallory', 'carol']) {
      const { ua, result } = await register(gw, user, 'x');
      assert.equal(result.registered, false);
      assert.equal(result.status, 403);
      assert.equal(result.reason, 'Not an enabled WebRTC device');
      await stop(ua);
    }
    const m = await metrics(gw);
    assert.ok(m.sample('rtcgate_sip_register_total', { result: 'refused' }) >= 2);
  });

  test('disabling a registered device ends its flow', async () => {
    const { ua, result } = await register(gw, 'alice', 'anything');
    assert.ok(result.registered);
    const gone = new Promise((resolve) => ua.once('disconnected', resolve));
    const mark = gw.mark();
    await device(gw, ['disable', 'alice']);
    await gw.waitForLog(/msg="flow ended" .*login=alice reason=device_disabled/, { after: mark, timeoutMs: 5000 });
    await withTimeout(gone, 5000, 'the flow to close');
    ua.stop();
    await device(gw, ['enable', 'alice']);
  });

  test('a request that cannot start a transaction gets 400 with the reason; garbage is dropped', async () => {
    const { ws, next } = await rawFlow(gw);
    ws.send(badRequest(['Call-ID: bad2', 'CSeq: 1 INVITE']));
    const answer = await next();
    assert.match(answer, /^SIP\/2.0 400 CSeq method does not match the request\r\n/);
    assert.match(answer, /\r\nVia: SIP\/2.0\/WSS client.invalid;branch=z9hG4bK[a-z0-9]+\r\n/);
    const before = (await metrics(gw)).sample('rtcgate_sip_dropped_total', { reason: 'malformed' });
    ws.send('\x00\x01 not sip at all');
    ws.send('INVITE\r\n\r\n');
    // no Call-ID: no response can be made (RFC 3261 §8.2.6 copies it), so it is dropped
    ws.send(badRequest(['CSeq: 1 OPTIONS']));
    // the flow still works: a well-formed OPTIONS is answered 200
    ws.send(badRequest(['Call-ID: ok1', 'CSeq: 1 OPTIONS']));
    assert.match(await next(), /^SIP\/2.0 200 OK\r\n/);
    const now = (await metrics(gw)).sample('rtcgate_sip_dropped_total', { reason: 'malformed' });
    assert.equal(now - before, 3);
    ws.close();
  });

  test('a Content-Length longer than the body gets 400 (RFC 3261 §18.3); a message over the limit closes its flow', async () => {
    const { ws, next } = await rawFlow(gw);
    ws.send(badRequest(['Call-ID: cl1', 'CSeq: 1 OPTIONS']).replace('Content-Length: 0', 'Content-Length: 500'));
    const answer = await next();
    assert.match(answer, /^SIP\/2.0 400 Content-Length larger than the body\r\n/);
    assert.match(answer, /\r\nCall-ID: cl1\r\n/);
    ws.send(badRequest(['Call-ID: ok2', 'CSeq: 1 OPTIONS']));
    assert.match(await next(), /^SIP\/2.0 200 OK\r\n/);
    ws.close();
    // over http.ws_max_message: 1009 on that flow only
    const big = await rawFlow(gw);
    const closed = once(big.ws, 'close');
    big.ws.send(badRequest(['Call-ID: big1', 'CSeq: 1 OPTIONS', `X-Big: ${'a'.repeat(70_000)}`]));
    const [code] = await withTimeout(closed, 3000, 'the oversized flow to close');
    assert.equal(code, 1009);
  });

  test('1,000 connects in quick succession: no crash, and a registration still works', async () => {
    const openBefore = (await metrics(gw)).sample('rtcgate_ws_connections');
    for (let round = 0; round < 10; round++) {
      const flows = await connectBurst(gw, 100);
      await Promise.all(
        flows.map((ws) => {
          if (ws.readyState === WebSocket.CLOSED) return undefined;
          const closed = once(ws, 'close');
          ws.terminate();
          return closed;
        }),
      );
    }
    assert.equal(await flowsSettle(gw, openBefore), openBefore, 'flows left open');
    const { ua, result } = await register(gw, 'alice', 'x');
    assert.deepEqual(result, { registered: true });
    await stop(ua);
  });

  test('a CRLF keepalive gets a CRLF pong (RFC 5626 §4.4.1)', async () => {
    const { ws, next } = await rawFlow(gw);
    ws.send('\r\n\r\n');
    assert.equal(await next(), '\r\n');
    ws.close();
  });
});

describe('with sipp as the PBX', () => {
  let gw;
  let sipp;
  let sippExit;
  let pbxPort;
  before(async () => {
    pbxPort = await freeUdpPort();
    sipp = spawn(
      'sipp',
      ['-sf', path.join(SIPP_DIR, 'register_uas.xml'), '-aa', '-i', '127.0.0.1', '-p', String(pbxPort), '-m', '1', '-timeout', '30s', '-nostdin'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    sipp.stdout.on('data', (d) => (out += d));
    sipp.stderr.on('data', (d) => (out += d));
    sippExit = once(sipp, 'exit').then(([code]) => ({ code, out }));
    gw = await startRtcgate({ overrides: [`sip.pbx=udp:127.0.0.1:${pbxPort}`, 'sip.options_interval=0'] });
    await device(gw, ['add', 'alice', '--secret', 'alice-secret']);
  });
  after(async () => {
    sipp?.kill();
    await gw?.stopClean();
  });

  test("the PBX's digest challenge reaches the browser and its answer reaches the PBX", async () => {
    const { ua, result } = await register(gw, 'alice', 'pbx-password');
    assert.deepEqual(result, { registered: true });
    const { code, out } = await withTimeout(sippExit, 10_000, 'sipp to finish its scenario');
    assert.equal(code, 0, `sipp failed:\n${out.slice(-1500)}`);
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_sip_register_total', { result: 'challenged' }), 1);
    ua.stop();
  });

  test('SIP from an address that is not a PBX target is dropped and counted', async () => {
    let answered = false;
    // the PBX target is 127.0.0.1: a stranger on 127.0.0.2
    const t = dgram.createSocket('udp4');
    t.bind(0, '127.0.0.2');
    await once(t, 'listening');
    t.on('message', () => (answered = true));
    const before = (await metrics(gw)).sample('rtcgate_sip_dropped_total', { reason: 'not_pbx' });
    t.send(badRequest(['Call-ID: stranger', 'CSeq: 1 OPTIONS']), gw.sipPort, '127.0.0.1');
    let now = before;
    for (let i = 0; i < 100 && now === before; i++) now = (await metrics(gw)).sample('rtcgate_sip_dropped_total', { reason: 'not_pbx' });
    assert.equal(now - before, 1);
    assert.equal(answered, false);
    t.close();
  });
});

/**
 * A PBX that answers OPTIONS and REGISTER with 200 (a registrar granting what it is asked),
 * counting what it saw by method. Minimal on purpose: the sipp tests cover interop.
 */
async function answeringPbx() {
  const socket = dgram.createSocket('udp4');
  const seen = {};
  socket.on('message', (msg, from) => {
    const text = msg.toString();
    const method = /^(\w+) /.exec(text)?.[1];
    if (!method || method === 'SIP/2.0') return;
    seen[method] = (seen[method] ?? 0) + 1;
    const keep = text.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq|Contact):/i.test(l));
    const reply = ['SIP/2.0 200 OK', ...keep.map((l) => (/^To:/i.test(l) ? `${l};tag=pbx1` : l)), 'Content-Length: 0', '', ''];
    socket.send(reply.join('\r\n'), from.port, from.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, seen };
}

/** A UDP socket that takes everything and answers nothing: a PBX that is down. */
async function silentPbx() {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

describe('PBX targets: OPTIONS pings, failover, 503 when none answers', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('a silent first target is marked down and registrations go to the second', async () => {
    const silent = await silentPbx();
    const good = await answeringPbx();
    const first = `udp:127.0.0.1:${silent.address().port}`;
    const second = `udp:127.0.0.1:${good.socket.address().port}`;
    const gw = await startRtcgate({ overrides: [`sip.pbx=${first},${second}`, 'sip.options_interval=5'] });
    cleanup.push(async () => {
      silent.close();
      good.socket.close();
      await gw.stopClean();
    });
    await device(gw, ['add', 'alice', '--secret', 'alice-secret']);
    await gw.waitForLog(new RegExp(`msg="pbx target down" target=${first}`), { timeoutMs: 8000 });
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_sip_pbx_up', { target: first }), 0);
    assert.equal(m.sample('rtcgate_sip_pbx_up', { target: second }), 1);
    assert.ok(good.seen.OPTIONS >= 1, 'the second target was not pinged');
    const { ua, result } = await register(gw, 'alice', 'x');
    assert.deepEqual(result, { registered: true });
    assert.equal(good.seen.REGISTER, 1);
    await stop(ua);
  });

  test('no target up: 503 with Retry-After, and nothing is sent', async () => {
    const silent = await silentPbx();
    let received = 0;
    const gw = await startRtcgate({ overrides: [`sip.pbx=udp:127.0.0.1:${silent.address().port}`] });
    cleanup.push(async () => {
      silent.close();
      await gw.stopClean();
    });
    await device(gw, ['add', 'alice', '--secret', 'alice-secret']);
    await gw.waitForLog(/msg="pbx target down"/, { timeoutMs: 8000 });
    silent.on('message', (msg) => {
      if (msg.toString().startsWith('REGISTER')) received++;
    });
    const { ua, result } = await register(gw, 'alice', 'x');
    assert.equal(result.status, 503);
    assert.equal(received, 0);
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_sip_register_total', { result: 'pbx_down' }), 1);
    await stop(ua);
  });
});
