// SIP over TCP and TLS toward the PBX (issue 4): sipp as a TCP PBX (registration, calls both
// ways over the one connection rtcgate opened, loss and return), a TLS PBX in Node (certificate
// checked against sip.tls_ca), hostile streams, and the outbound proxy (RFC 3261 §8.1.2).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO, assertHealthy, ctl, freePort, freeUdpPort, metrics, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { answer, call, ended, incoming, register, stop } from './lib/jssip.mjs';
import { streamPbx } from './lib/streampbx.mjs';
import { makeCerts } from './lib/testcerts.mjs';

const SIPP_DIR = path.join(REPO, 'tests', 'fixtures', 'sipp');

async function device(gw, login) {
  const r = await ctl(gw, ['device', 'add', login, '--secret', `${login}-secret`]);
  assert.equal(r.code, 0, r.stderr);
}

/** sipp over TCP as the PBX on port (a free one by default): {port, exit, kill}. */
async function sippTcp(scenario, extra = [], port) {
  const p = port ?? (await freePort());
  const mediaPort = await freeUdpPort();
  const child = spawn(
    'sipp',
    ['-sf', path.join(SIPP_DIR, scenario), '-t', 't1', '-i', '127.0.0.1', '-p', String(p)].concat(
      ['-mi', '127.0.0.1', '-mp', String(mediaPort), '-timeout', '60s', '-nostdin', ...extra],
    ),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exit = once(child, 'exit').then(([code, signal]) => ({ code, signal, out }));
  return { port: p, exit, kill: () => child.kill('SIGKILL') };
}

/** Poll /metrics (bounded) until the sample equals want; returns the last value seen. */
async function metricBecomes(gw, name, labels, want, { tries = 150, everyMs = 200 } = {}) {
  let v;
  for (let i = 0; i < tries; i++) {
    v = (await metrics(gw)).sample(name, labels);
    if (v === want) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return v;
}

describe('sipp as a TCP PBX', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('register over TCP (Via TCP, Contact transport=tcp), the PBX calls the browser and the browser calls the PBX, RTP both ways', async () => {
    const pbx = await sippTcp('tcp_pbx.xml', ['-m', '2', '-rtp_echo']);
    const target = `tcp:127.0.0.1:${pbx.port}`;
    const gw = await startRtcgate({ overrides: [`sip.pbx=${target}`, 'sip.options_interval=0'] });
    cleanup.push(async () => {
      pbx.kill();
      await gw.stopClean();
    });
    await device(gw, 'alice');
    const { ua, result } = await register(gw, 'alice', 'x');
    cleanup.push(() => stop(ua).catch(() => {}));
    assert.deepEqual(result, { registered: true });
    // opened on demand by the REGISTER (pings are off)
    const open = await gw.waitForLog(/msg="pbx connection open"/);
    assert.match(open.line, new RegExp(`target=${target} tls=no`));

    // the PBX calls the browser over the connection rtcgate opened (connection reuse)
    const session = await withTimeout(incoming(ua), 10_000, 'the incoming call over TCP');
    const inPc = await answer(session);
    assert.deepEqual(await inPc.rtpRoundTrip(25), { sent: 25, received: 25, intact: 25 });
    const e = await withTimeout(ended(session), 10_000, 'the BYE from the PBX');
    assert.equal(e.originator, 'remote');

    // and the browser calls the PBX: answered, sipp echoes the RTP
    const { session: out, outcome, pc } = await call(ua, 'sip:1000@pbx.example');
    assert.deepEqual(outcome, { ok: true });
    assert.deepEqual(await pc.rtpRoundTrip(50), { sent: 50, received: 50, intact: 50 });
    out.terminate();
    const { code, out: log } = await withTimeout(pbx.exit, 15_000, 'sipp to finish both calls');
    assert.equal(code, 0, `sipp failed (its Via/Contact checks included):\n${log.slice(-2000)}`);
    assert.equal((await metrics(gw)).sample('rtcgate_sip_calls_ended_total', { reason: 'bye_caller' }), 2);
  });

  test('the TCP PBX goes away: the target goes down; it comes back: up again', async () => {
    let pbx = await sippTcp('options_uas.xml', ['-m', '100000']);
    const target = `tcp:127.0.0.1:${pbx.port}`;
    const gw = await startRtcgate({ overrides: [`sip.pbx=${target}`, 'sip.options_interval=1'] });
    cleanup.push(async () => {
      pbx.kill();
      await gw.stopClean();
    });
    const labels = { target };
    assert.equal(await metricBecomes(gw, 'rtcgate_sip_pbx_up', labels, 1), 1);
    await gw.waitForLog(/msg="pbx connection open"/);
    const mark = gw.mark();
    pbx.kill();
    await pbx.exit;
    await gw.waitForLog(/msg="pbx connection closed" target=\S+ reason=/, { after: mark });
    assert.equal(await metricBecomes(gw, 'rtcgate_sip_pbx_up', labels, 0), 0);
    pbx = await sippTcp('options_uas.xml', ['-m', '100000'], pbx.port);
    assert.equal(await metricBecomes(gw, 'rtcgate_sip_pbx_up', labels, 1), 1);
    await gw.waitForLog(/msg="pbx connection open"/, { after: mark });
  });
});

describe('a TLS PBX', () => {
  let certs;
  const cleanup = [];
  before(() => {
    certs = makeCerts();
  });
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
    fs.rmSync(certs.dir, { recursive: true, force: true });
  });

  test('sip.tls_ca holds its CA: registration over TLS, Via TLS, Contact transport=tls, CRLF keepalives', async () => {
    const pbx = await streamPbx({ tlsOptions: { key: certs.key, cert: certs.cert } });
    const target = `tls:127.0.0.1:${pbx.port}`;
    const gw = await startRtcgate({
      overrides: [`sip.pbx=${target}`, `sip.tls_ca=${certs.ca}`, 'sip.options_interval=1', 'sip.keepalive_interval=1'],
    });
    cleanup.push(async () => {
      await gw.stopClean();
      await pbx.close();
    });
    await device(gw, 'alice');
    assert.equal(await metricBecomes(gw, 'rtcgate_sip_pbx_up', { target }, 1), 1);
    const open = await gw.waitForLog(/msg="pbx connection open"/);
    assert.match(open.line, /tls=TLSv1\.[23]/);
    const { ua, result } = await register(gw, 'alice', 'x');
    assert.deepEqual(result, { registered: true });
    const reg = await pbx.request(/^REGISTER /);
    assert.match(reg, /^Via: SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;branch=z9hG4bK/m);
    assert.match(reg, /^Contact: <sip:[a-z0-9]{16}@127\.0\.0\.1:\d+;transport=tls>/m);
    if (pbx.pings === 0) await withTimeout(once(pbx, 'ping'), 5000, 'a CRLF keepalive');
    assert.ok(pbx.pings >= 1);
    // a 48 KiB request from the PBX spans several TLS records: read whole, answered
    const answered = new Promise((resolve) => pbx.on('response', (t) => /Call-ID: big-one/.test(t) && resolve(t)));
    pbx.write(
      [
        'OPTIONS sip:rtcgate@127.0.0.1 SIP/2.0',
        'Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKbig1',
        'From: <sip:pbx@127.0.0.1>;tag=p1',
        'To: <sip:rtcgate@127.0.0.1>',
        'Call-ID: big-one',
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        `X-Pad: ${'p'.repeat(48 * 1024)}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    assert.match(await withTimeout(answered, 5000, 'the answer to the big OPTIONS'), /^SIP\/2\.0 200 /);
    assert.equal(pbx.connections.length, 1, 'one connection carried pings, keepalives, the registration and the big request');
    await stop(ua);
  });

  test('a certificate of another CA: the target is down, the browser gets 503', async () => {
    const pbx = await streamPbx({ tlsOptions: { key: certs.key, cert: certs.cert } });
    const target = `tls:127.0.0.1:${pbx.port}`;
    const gw = await startRtcgate({ overrides: [`sip.pbx=${target}`, `sip.tls_ca=${certs.other}`, 'sip.options_interval=1'] });
    cleanup.push(async () => {
      await gw.stopClean();
      await pbx.close();
    });
    await device(gw, 'alice');
    await gw.waitForLog(/msg="pbx connection closed" target=\S+ reason="TLS: certificate not accepted: [^"]+"/, 8000);
    // the ping that went into the failed handshake has timed out: down until one is answered
    await gw.waitForLog(/msg="pbx target down"/, 8000);
    assert.equal(await metricBecomes(gw, 'rtcgate_sip_pbx_up', { target }, 0), 0);
    const { ua, result } = await register(gw, 'alice', 'x');
    assert.equal(result.status, 503);
    assert.equal(pbx.requests.length, 0, 'nothing crossed an unverified connection');
    await stop(ua);
  });
});

describe('hostile bytes from a TCP PBX', () => {
  let pbx, gw;
  const target = () => `tcp:127.0.0.1:${pbx.port}`;
  before(async () => {
    pbx = await streamPbx();
    gw = await startRtcgate({ overrides: [`sip.pbx=${target()}`, 'sip.options_interval=1'] });
    await device(gw, 'alice');
    await pbx.request(/^OPTIONS /);
  });
  after(async () => {
    await gw?.stopClean();
    await pbx?.close();
  });

  const cases = [
    ['a message without Content-Length', 'framing', 'SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n'],
    ['a message over the 64 KiB limit', 'too_big', `SIP/2.0 200 OK\r\nContent-Length: 70000\r\n\r\n${'x'.repeat(1000)}`],
    ['garbage without an end', 'too_big', Buffer.alloc(70_000, 0x41)],
    ['garbage with an end', 'framing', 'hello there\r\n\r\n'],
  ];
  for (const [what, reason, bytes] of cases) {
    test(`${what}: the connection is closed and counted as ${reason}`, async () => {
      const before = (await metrics(gw)).sample('rtcgate_sip_dropped_total', { reason });
      const sock = pbx.newest();
      /* a reset (rtcgate closes with bytes unread) is a close too */
      const closed = new Promise((resolve) => sock.once('close', resolve));
      pbx.write(bytes);
      await withTimeout(closed, 5000, 'rtcgate to close the connection');
      const now = (await metrics(gw)).sample('rtcgate_sip_dropped_total', { reason });
      assert.equal(now - before, 1);
      // it reconnects on the next ping and goes on serving
      const n = pbx.connections.length;
      await withTimeout(once(pbx, 'connection'), 8000, 'a new connection');
      assert.equal(pbx.connections.length, n + 1);
    });
  }

  test('after all that: a registration over the new connection works, /healthz ok', async () => {
    assert.equal(await metricBecomes(gw, 'rtcgate_sip_pbx_up', { target: target() }, 1), 1);
    const { ua, result } = await register(gw, 'alice', 'x');
    assert.deepEqual(result, { registered: true });
    await assertHealthy(gw, assert);
    await stop(ua);
  });
});

describe('a TCP connection lost under a pending request', () => {
  test('the PBX drops the connection instead of answering a REGISTER: 503 at once, not after timer F', async () => {
    const pbx = await streamPbx({ unanswered: /^REGISTER / });
    const gw = await startRtcgate({ overrides: [`sip.pbx=tcp:127.0.0.1:${pbx.port}`, 'sip.options_interval=0'] });
    try {
      await device(gw, 'alice');
      pbx.once('request', () => pbx.newest().destroy());
      const started = Date.now();
      const { ua, result } = await register(gw, 'alice', 'x');
      assert.equal(result.status, 503);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      await gw.waitForLog(/msg="transactions failed" peer=\S+ count=1 reason=connection_lost/);
      await stop(ua);
    } finally {
      await gw.stopClean();
      await pbx.close();
    }
  });
});

describe('the outbound proxy', () => {
  test('requests go to the proxy with a Route naming it; the Request-URI stays the PBX', async () => {
    const proxy = await streamPbx();
    const gw = await startRtcgate({
      overrides: ['sip.pbx=udp:pbx.example:5070', `sip.outbound_proxy=tcp:127.0.0.1:${proxy.port}`, 'sip.options_interval=1'],
    });
    try {
      await device(gw, 'alice');
      const ping = await withTimeout(proxy.request(/^OPTIONS /), 5000, 'the ping through the proxy');
      assert.match(ping, /^OPTIONS sip:pbx\.example:5070 SIP\/2\.0/);
      const { ua, result } = await register(gw, 'alice', 'x');
      assert.deepEqual(result, { registered: true });
      const reg = await proxy.request(/^REGISTER /);
      assert.match(reg, /^REGISTER sip:pbx\.example SIP\/2\.0/);
      assert.match(reg, new RegExp(`^Route: <sip:127\\.0\\.0\\.1:${proxy.port};transport=tcp;lr>`, 'm'));
      assert.match(reg, /^Via: SIP\/2\.0\/TCP /m);
      assert.equal((await metrics(gw)).sample('rtcgate_sip_pbx_up', { target: 'udp:pbx.example:5070' }), 1);
      await stop(ua);
    } finally {
      await gw.stopClean();
      await proxy.close();
    }
  });
});
