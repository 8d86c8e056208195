// Process life cycle: SIGHUP reload (applied, refused, restart-only keys), SIGTERM/SIGINT stop, --check-config, rtcgatectl, versions.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  BIN,
  CTL_BIN,
  REPO,
  freePort,
  getJson,
  metrics,
  request,
  run,
  startRtcgate,
  tempFile,
} from './lib/rtcgate.mjs';
import { closeWs, closed, openWs, refusedUpgrade } from './lib/ws.mjs';

const ORIGIN_A = '[http]\nallowed_origins = https://a.example\n';
const ORIGIN_B = '[http]\nallowed_origins = https://b.example\n';

/** Start a gateway for one test and stop it when the test ends. */
async function gateway(t, opts) {
  const gw = await startRtcgate(opts);
  t.after(() => gw.stopClean());
  return gw;
}

/** Assert which of the two origins may open /sip right now. */
async function assertOrigins(gw, { allowed, refused }) {
  const ws = await openWs(gw, { origin: allowed });
  assert.equal(ws.protocol, 'sip');
  await closeWs(ws);
  const res = await refusedUpgrade(gw, { protocols: ['sip'], origin: refused });
  assert.equal(res.status, 403, `origin ${refused}`);
}

const reloads = async (gw, result) =>
  (await metrics(gw)).sample('rtcgate_config_reloads_total', { result }) ?? 0;

/** Rewrite the config file, send SIGHUP and wait for the reload's log line matching re. */
async function reload(gw, text, re) {
  gw.writeConfig(text);
  const mark = gw.mark();
  gw.signal('SIGHUP');
  return gw.waitForLog(re, { after: mark });
}

/** Connecting to port on 127.0.0.1 fails with: resolves the error code, or 'connected'. */
function connectResult(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e) => resolve(e.code));
  });
}

describe('SIGHUP', () => {
  test('a valid config is applied: the new origin rule holds', async (t) => {
    const gw = await gateway(t, { config: ORIGIN_A });
    await assertOrigins(gw, { allowed: 'https://a.example', refused: 'https://b.example' });
    const { line } = await reload(gw, ORIGIN_B, /msg="config reloaded"/);
    assert.match(line, /applied=http\.allowed_origins/);
    await assertOrigins(gw, { allowed: 'https://b.example', refused: 'https://a.example' });
    assert.equal(await reloads(gw, 'ok'), 1);
    assert.equal(await reloads(gw, 'refused'), 0);
  });

  const badConfigs = [
    { name: 'a value that is not an integer', text: '[http]\nport = banana\n', names: /http\.port/ },
    { name: 'an unknown key', text: ORIGIN_B + 'bogus = 1\n', names: /http\.bogus/ },
  ];
  for (const bad of badConfigs) {
    test(`a config with ${bad.name} is refused and the running one stays`, async (t) => {
      const gw = await gateway(t, { config: ORIGIN_A });
      const { line } = await reload(gw, bad.text, /msg="config reload refused"/);
      assert.match(line, /error="[^"]*/);
      assert.match(line, bad.names);
      const health = await getJson(gw, '/healthz');
      assert.equal(health.status, 200);
      assert.equal(health.json.status, 'ok');
      await assertOrigins(gw, { allowed: 'https://a.example', refused: 'https://b.example' });
      assert.equal(await reloads(gw, 'refused'), 1);
      assert.equal(await reloads(gw, 'ok'), 0);
    });
  }

  test('a changed restart-only key (http.port) is kept until restart', async (t) => {
    const ports = ({ httpPort, tlsPort }) => `[http]\nport = ${httpPort}\ntls_port = ${tlsPort}\n`;
    const gw = await gateway(t, { config: ports, portOverrides: false });
    const newPort = await freePort();
    const mark = gw.mark();
    await reload(gw, ports({ httpPort: newPort, tlsPort: gw.tlsPort }), /msg="config reloaded"/);
    const { line } = await gw.waitForLog(/restart needed/, { after: mark });
    assert.match(line, /http\.port/);
    const r = await request(gw, { path: '/healthz' });
    assert.equal(r.status, 200, 'the old port no longer serves');
    assert.equal(await connectResult(newPort), 'ECONNREFUSED', 'something listens on the new port');
    assert.equal(await reloads(gw, 'ok'), 1);
  });
});

describe('stopping', () => {
  test('SIGTERM closes open WebSocket flows with 1001 and exits 0 within 2 s', async (t) => {
    const gw = await gateway(t);
    const ws = await openWs(gw);
    const wss = await openWs(gw, { url: gw.wssUrl });
    const stopped = await gw.stop('SIGTERM');
    assert.equal((await closed(ws)).code, 1001);
    assert.equal((await closed(wss)).code, 1001);
    assert.deepEqual({ code: stopped.code, signal: stopped.signal }, { code: 0, signal: null });
    assert.ok(stopped.ms < 2000, `exit took ${stopped.ms} ms after SIGTERM`);
    const lines = gw.stderrLines.map((l) => /msg="([^"]*)"/.exec(l)?.[1]);
    const stopping = lines.indexOf('stopping');
    assert.ok(stopping >= 0, 'no "stopping" line');
    assert.ok(lines.indexOf('stopped') > stopping, '"stopped" not logged after "stopping"');
    /* both flows answered the close, so the drain ended before the grace period */
    assert.ok(lines.includes('all connections closed'));
    assert.ok(!lines.includes('grace period over'));
  });

  test('SIGINT exits 0', async (t) => {
    const gw = await gateway(t);
    const stopped = await gw.stop('SIGINT');
    assert.deepEqual({ code: stopped.code, signal: stopped.signal }, { code: 0, signal: null });
    assert.ok(stopped.ms < 2000, `exit took ${stopped.ms} ms after SIGINT`);
    assert.ok(gw.stderrLines.some((l) => /msg="stopped"/.test(l)));
  });

  test('the listening port refuses connections once stopped', async (t) => {
    const gw = await gateway(t);
    await gw.stop();
    assert.equal(await connectResult(gw.httpPort), 'ECONNREFUSED');
    assert.equal(await connectResult(gw.tlsPort), 'ECONNREFUSED');
  });
});

describe('configuration checks and versions', () => {
  const version = /version\s*:\s*'([^']+)'/.exec(fs.readFileSync(path.join(REPO, 'meson.build'), 'utf8'))?.[1];
  const good = tempFile('good.conf', ORIGIN_A);
  const bad = tempFile('bad.conf', '[http]\nport = 70000\nbogus = 1\n[nope]\n');
  after(() => [good, bad].forEach((f) => fs.rmSync(path.dirname(f), { recursive: true, force: true })));
  const checkers = [
    { name: 'rtcgate --check-config', argv: (file) => [BIN, ['--config', file, '--check-config']] },
    { name: 'rtcgatectl check-config', argv: (file) => [CTL_BIN, ['check-config', file]] },
  ];

  for (const c of checkers) {
    test(`${c.name} accepts a good file with exit 0`, async () => {
      const r = await run(...c.argv(good));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${good}: config ok\n`);
      assert.equal(r.stderr, '');
    });

    test(`${c.name} rejects a bad file with exit 1 and one line per error`, async () => {
      const r = await run(...c.argv(bad));
      assert.equal(r.code, 1);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 3, r.stderr);
      for (const l of lines) assert.ok(l.startsWith(`${bad}: `), `line does not name the file: ${l}`);
      const named = lines.map((l) => l.slice(bad.length + 2).split(':')[0]).sort();
      assert.deepEqual(named, ['[nope]', 'http.bogus', 'http.port']);
      assert.match(r.stderr, /http\.port: 70000 is out of range/);
    });
  }

  test('rtcgate -o with a bad value and --check-config exits 1 naming -o', async () => {
    const r = await run(BIN, ['-o', 'http.port=x', '--check-config']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^-o: http\.port: /);
  });

  test('--log-level takes a level or a per-subsystem list, and names the key it failed', async () => {
    for (const ok of ['debug', 'sip:debug,http:warn']) {
      const r = await run(BIN, ['--log-level', ok, '--check-config']);
      assert.equal(r.code, 0, `${ok}: ${r.stderr}`);
    }
    const bad = [
      ['loud', /^-o: log\.level: unknown level 'loud'/],
      ['sip:debug,nope:warn', /^-o: log\.levels: unknown subsystem 'nope'/],
    ];
    for (const [arg, re] of bad) {
      const r = await run(BIN, ['--log-level', arg, '--check-config']);
      assert.equal(r.code, 1, arg);
      assert.match(r.stderr, re);
    }
  });

  test('rtcgate --version and rtcgatectl --version print the project version', async () => {
    assert.ok(version, 'no version in meson.build');
    const d = await run(BIN, ['--version']);
    assert.equal(d.code, 0);
    assert.equal(d.stdout, `rtcgate ${version}\n`);
    const c = await run(CTL_BIN, ['--version']);
    assert.equal(c.code, 0);
    assert.equal(c.stdout, `rtcgatectl ${version}\n`);
  });
});
