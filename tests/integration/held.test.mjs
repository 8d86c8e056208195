// Held registrations (issue 4): a device with a PBX password. rtcgate checks the browser's digest
// against the device's web secret and registers to the PBX itself (sipp as a registrar that
// checks the PBX credentials); the binding survives a WebSocket reconnect with the same
// +sip.instance and reg-id (RFC 5626). Digest on INVITE: answered by rtcgate in held mode,
// relayed to JsSIP in pass-through mode.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO, ctl, freeUdpPort, metrics, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { answer, call, dropConnection, incoming, register, stop } from './lib/jssip.mjs';

const SIPP_DIR = path.join(REPO, 'tests', 'fixtures', 'sipp');
const INSTANCE = '8f2b7e51-0c8a-4c4b-9d0f-1a2b3c4d5e6f';

async function device(gw, args) {
  const r = await ctl(gw, ['device', ...args]);
  assert.equal(r.code, 0, r.stderr);
}

/**
 * sipp as the PBX with scenario on a free port, every message it receives traced to a file:
 * {port, exit: Promise<{code, out}>, kill, received(method)}.
 */
async function sippPbx(scenario, calls) {
  const port = await freeUdpPort();
  const mediaPort = await freeUdpPort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-sipp-'));
  const trace = path.join(dir, 'messages.log');
  const child = spawn(
    'sipp',
    ['-sf', path.join(SIPP_DIR, scenario), '-m', String(calls), '-i', '127.0.0.1', '-p', String(port)].concat(
      ['-mi', '127.0.0.1', '-mp', String(mediaPort), '-timeout', '60s', '-nostdin', '-trace_msg', '-message_file', trace],
    ),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exit = once(child, 'exit').then(([code]) => ({ code, out }));
  return {
    port,
    exit,
    kill: () => {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    /** How many requests of method sipp has received so far. */
    received(method) {
      const text = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8') : '';
      return text.split(/message received \[\d+\] bytes :\s*\n\s*\n/).filter((m) => m.startsWith(`${method} `)).length;
    },
  };
}

async function sippDone(pbx) {
  const { code, out } = await withTimeout(pbx.exit, 20_000, 'sipp to finish its scenario');
  assert.equal(code, 0, `sipp failed:\n${out.slice(-2500)}`);
}

describe('held registration: the browser authenticates to rtcgate, rtcgate registers to the PBX', () => {
  let gw;
  let pbx;
  let ua1;
  let ua2;
  let sock1;
  let ringing1;
  before(async () => {
    pbx = await sippPbx('held_pbx.xml', 1);
    gw = await startRtcgate({
      overrides: [`sip.pbx=udp:127.0.0.1:${pbx.port}`, 'sip.options_interval=0'],
    });
    await device(gw, ['add', 'alice', '--secret', 'alice-secret', '--extension', '2001', '--pbx-user', '2001u', '--pbx-password', 'pbx-secret']);
  });
  after(async () => {
    pbx?.kill();
    for (const ua of [ua1, ua2]) ua?.stop();
    await gw?.stopClean();
  });

  test('a wrong web secret gets 403 and nothing reaches the PBX', async () => {
    const { ua, result } = await register(gw, 'alice', 'not-the-secret');
    assert.equal(result.registered, false);
    assert.equal(result.status, 403);
    assert.equal(result.reason, 'Wrong credentials');
    await stop(ua);
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_sip_register_total', { result: 'refused' }), 1);
    assert.equal(m.sample('rtcgate_sip_register_total', { result: 'challenged' }), 1);
    assert.equal(pbx.received('REGISTER'), 0);
  });

  test('the right secret: rtcgate registers with the PBX credentials (checked by sipp), the browser gets 200', async () => {
    const mark = gw.mark();
    const r = await register(gw, 'alice', 'alice-secret', { instanceId: INSTANCE });
    ua1 = r.ua;
    sock1 = r.socket;
    // the PBX calls the device as soon as it is registered: listen before anything else runs
    ringing1 = incoming(ua1);
    assert.deepEqual(r.result, { registered: true });
    await gw.waitForLog(/msg="held registered" login=alice expires=3600/, { after: mark });
    assert.equal(pbx.received('REGISTER'), 2); // challenged once, answered once
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_sip_registrations'), 1);
    assert.equal(m.sample('rtcgate_sip_register_total', { result: 'ok' }), 1);
    // passwords and HA1 values never reach the log
    assert.ok(!gw.stderrLines.some((l) => /pbx-secret|alice-secret/.test(l)));
  });

  test('the flow drops: the PBX call gets 480 while no flow is attached, and rings on the flow that re-attaches', async () => {
    // the PBX called the device at once; the browser's connection goes away while it rings
    const mark = gw.mark();
    await withTimeout(ringing1, 10_000, 'the PBX call on the first flow');
    await dropConnection(ua1, sock1);
    await gw.waitForLog(/msg="held flow gone" login=alice grace=300/, { after: mark });
    // the PBX tries again: no flow holds the registration now
    await gw.waitForLog(/msg="call refused" .*code=480 reason="Temporarily Unavailable"/, { after: mark, timeoutMs: 10_000 });
    ua1.stop();
    // a new connection with the same instance and reg-id takes the registration over, no PBX round trip
    const r = await register(gw, 'alice', 'alice-secret', { instanceId: INSTANCE });
    ua2 = r.ua;
    assert.deepEqual(r.result, { registered: true });
    assert.equal(pbx.received('REGISTER'), 2);
    const session = await withTimeout(incoming(ua2), 10_000, 'the PBX call on the new flow');
    await answer(session);
    await gw.waitForLog(/msg="call end" login=alice reason=bye_caller/, { after: mark, timeoutMs: 10_000 });
  });

  test('disabling the device unregisters it at the PBX (expires 0, challenged and answered)', async () => {
    const mark = gw.mark();
    await device(gw, ['disable', 'alice']);
    await gw.waitForLog(/msg="held unregister" login=alice reason=device_disabled/, { after: mark });
    await gw.waitForLog(/msg="held unregistered" login=alice/, { after: mark });
    await sippDone(pbx);
    assert.equal(pbx.received('REGISTER'), 4);
  });
});

describe('digest on INVITE', () => {
  const running = [];
  after(async () => {
    for (const { pbx, gw, ua } of running.reverse()) {
      pbx.kill();
      await stop(ua).catch(() => {});
      await gw.stopClean();
    }
  });

  async function setup(held) {
    const pbx = await sippPbx('uas_challenge_invite.xml', 2);
    const gw = await startRtcgate({ overrides: [`sip.pbx=udp:127.0.0.1:${pbx.port}`, 'sip.options_interval=0'] });
    const add = ['add', 'alice', '--secret', 'alice-secret'];
    await device(gw, held ? [...add, '--pbx-password', 'pbx-secret'] : add);
    // pass-through: the PBX sees the browser's own answer, made with its password
    const { ua, result } = await register(gw, 'alice', held ? 'alice-secret' : 'pbx-secret');
    running.push({ pbx, gw, ua });
    assert.deepEqual(result, { registered: true });
    return { pbx, gw, ua };
  }

  test("held: the PBX's 407 is answered by rtcgate with the PBX password, the browser never sees it", async () => {
    const { pbx, gw, ua } = await setup(true);
    const mark = gw.mark();
    const { session, outcome } = await call(ua, 'sip:3000@pbx.example');
    assert.deepEqual(outcome, { ok: true });
    await gw.waitForLog(/msg="call challenged" login=alice code=407 answered=held/, { after: mark });
    // no 407 went to the browser
    assert.equal((await metrics(gw)).sample('rtcgate_sip_responses_total', { code: '407' }), undefined);
    session.terminate();
    await sippDone(pbx);
    assert.equal(pbx.received('INVITE'), 2);
  });

  test("pass-through: the PBX's 407 reaches JsSIP, whose answer goes out as CSeq 2 of the same setup", async () => {
    const { pbx, gw, ua } = await setup(false);
    const mark = gw.mark();
    const { session, outcome } = await call(ua, 'sip:3000@pbx.example');
    assert.deepEqual(outcome, { ok: true });
    // rtcgate relayed the 407 and its challenge: JsSIP's second INVITE came with credentials
    const m = await metrics(gw);
    assert.equal(m.sample('rtcgate_sip_responses_total', { code: '407' }), 1);
    assert.ok(!gw.stderrLines.slice(mark).some((l) => /msg="call challenged"/.test(l)));
    session.terminate();
    await sippDone(pbx);
    assert.equal(pbx.received('INVITE'), 2);
  });
});
