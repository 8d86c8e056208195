// HTTP and HTTPS routes (/, static files, /healthz, /config, /metrics, 404, 426, HEAD), TLS versions and the self-signed certificate.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import {
  BIN,
  WEB_ROOT,
  getJson,
  metrics,
  parseResponse,
  rawExchange,
  request,
  run,
  startRtcgate,
  withTimeout,
} from './lib/rtcgate.mjs';

const SCHEMES = [
  { name: 'http', tls: false },
  { name: 'https', tls: true },
];

let gw;
let version;

before(async () => {
  const v = await run(BIN, ['--version']);
  assert.equal(v.code, 0);
  const m = /^rtcgate (\S+)\n$/.exec(v.stdout);
  assert.ok(m, `rtcgate --version printed ${JSON.stringify(v.stdout)}`);
  version = m[1];
  gw = await startRtcgate();
});
after(() => gw?.stopClean());

/** Open a TLS connection with opts; resolves {protocol, cert} or rejects with the handshake error. */
function tlsHandshake(port, opts) {
  const sock = tls.connect({ host: '127.0.0.1', port, ...opts });
  const done = new Promise((resolve, reject) => {
    sock.once('secureConnect', () => resolve({ protocol: sock.getProtocol(), cert: sock.getPeerCertificate() }));
    sock.once('error', reject);
  });
  return withTimeout(done, 5000, `TLS handshake on port ${port}`).finally(() => sock.destroy());
}

const STATIC = [
  { path: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: '/index.html', file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: '/style.css', file: 'style.css', type: /^text\/css(;|$)/ },
  { path: '/src/main.js', file: 'src/main.js', type: /^text\/javascript(;|$)/ },
];

for (const scheme of SCHEMES) {
  describe(`routes over ${scheme.name}`, () => {
    for (const s of STATIC) {
      test(`GET ${s.path} serves web/${s.file}`, async () => {
        const r = await request(gw, { tls: scheme.tls, path: s.path });
        assert.equal(r.status, 200);
        if (typeof s.type === 'string') assert.equal(r.headers['content-type'], s.type);
        else assert.match(r.headers['content-type'], s.type);
        assert.equal(r.body, fs.readFileSync(path.join(WEB_ROOT, s.file), 'utf8'));
      });
    }

    test('GET /healthz reports ok, the build version and a numeric uptime', async () => {
      const r = await getJson(gw, '/healthz', { tls: scheme.tls });
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'], /^application\/json/);
      assert.equal(r.json.status, 'ok');
      assert.equal(r.json.version, version);
      assert.equal(typeof r.json.uptime_seconds, 'number');
      assert.ok(Number.isFinite(r.json.uptime_seconds) && r.json.uptime_seconds >= 0, `uptime ${r.json.uptime_seconds}`);
    });

    test('GET /config names the WebSocket URL of this listener and has iceServers', async () => {
      const r = await getJson(gw, '/config', { tls: scheme.tls });
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'], /^application\/json/);
      const want = scheme.tls ? `wss://127.0.0.1:${gw.tlsPort}/sip` : `ws://127.0.0.1:${gw.httpPort}/sip`;
      assert.equal(r.json.websocket_url, want);
      assert.ok(Array.isArray(r.json.iceServers), `iceServers is ${JSON.stringify(r.json.iceServers)}`);
    });

    test('GET of an unknown route is 404', async () => {
      const r = await request(gw, { tls: scheme.tls, path: '/no-such-route' });
      assert.equal(r.status, 404);
    });

    test('plain GET /sip is 426 Upgrade Required', async () => {
      const r = await request(gw, { tls: scheme.tls, path: '/sip' });
      assert.equal(r.status, 426);
      assert.match(r.body, /sip/);
    });

    /* raw, so that a body sent after the header would be seen rather than dropped by the parser */
    for (const p of ['/', '/style.css', '/healthz', '/config', '/metrics']) {
      test(`HEAD ${p} has the GET headers and no body`, async () => {
        const get = await request(gw, { tls: scheme.tls, path: p });
        const port = scheme.tls ? gw.tlsPort : gw.httpPort;
        const raw = await rawExchange(port, `HEAD ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`, {
          tls: scheme.tls ? gw : null,
        });
        const head = parseResponse(raw.data);
        assert.ok(head, `no HTTP response to HEAD ${p}: ${JSON.stringify(raw)}`);
        assert.equal(head.status, 200);
        assert.equal(head.headers['content-type'], get.headers['content-type']);
        assert.equal(head.body, '', `HEAD ${p} carried a body`);
        if (p === '/' || p === '/style.css')
          assert.equal(Number(head.headers['content-length']), Buffer.byteLength(get.body));
      });
    }
  });
}

describe('metrics', () => {
  test('exposition has the Prometheus content type and the expected families', async () => {
    const m = await metrics(gw);
    assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
    const build = m.family('rtcgate_build_info');
    assert.ok(build, 'rtcgate_build_info missing');
    assert.equal(build.type, 'GAUGE');
    assert.deepEqual(build.metrics.map((s) => [s.labels?.version, Number(s.value)]), [[version, 1]]);
    assert.equal(m.family('rtcgate_uptime_seconds')?.type, 'GAUGE');
    assert.ok(m.sample('rtcgate_uptime_seconds') >= 0);
    assert.equal(m.family('rtcgate_http_requests_total')?.type, 'COUNTER');
    assert.equal(m.family('rtcgate_ws_connections')?.type, 'GAUGE');
    assert.equal(m.sample('rtcgate_ws_connections'), 0);
  });

  test('rtcgate_http_requests_total{route="healthz",status="200"} counts each /healthz request once', async () => {
    const labels = { route: 'healthz', status: '200' };
    const before = (await metrics(gw)).sample('rtcgate_http_requests_total', labels) ?? 0;
    for (const s of [SCHEMES[0], SCHEMES[0], SCHEMES[1]]) {
      assert.equal((await request(gw, { tls: s.tls, path: '/healthz' })).status, 200);
    }
    const afterValue = (await metrics(gw)).sample('rtcgate_http_requests_total', labels);
    assert.equal(afterValue - before, 3);
  });
});

describe('TLS', () => {
  test('negotiates TLS 1.2 or 1.3 and serves the certificate from <state_dir>/tls/cert.pem', async () => {
    const r = await request(gw, { tls: true, path: '/healthz' });
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(r.tlsProtocol), `negotiated ${r.tlsProtocol}`);
    const file = new X509Certificate(fs.readFileSync(gw.certPath));
    const { cert } = await tlsHandshake(gw.tlsPort, { ca: gw.ca() });
    assert.equal(cert.fingerprint256, file.fingerprint256);
  });

  test('refuses a client limited to TLS 1.1', async () => {
    /* SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all; the TLS 1.2 control proves the options work */
    const opts = { rejectUnauthorized: false, ciphers: 'DEFAULT@SECLEVEL=0', minVersion: 'TLSv1' };
    const ok = await tlsHandshake(gw.tlsPort, { ...opts, maxVersion: 'TLSv1.2' });
    assert.equal(ok.protocol, 'TLSv1.2');
    await assert.rejects(tlsHandshake(gw.tlsPort, { ...opts, maxVersion: 'TLSv1.1' }), (err) => {
      assert.doesNotMatch(String(err.code), /NO_PROTOCOLS_AVAILABLE/, 'the client never offered TLS 1.1');
      /* the server's protocol_version alert (RFC 8446 §6.2), not some unrelated failure */
      assert.match(String(err.code), /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
      return true;
    });
  });

  test('the self-signed certificate is ECDSA P-256 and its key file is private', () => {
    const cert = new X509Certificate(fs.readFileSync(gw.certPath));
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.equal(cert.publicKey.asymmetricKeyDetails.namedCurve, 'prime256v1');
    assert.ok(cert.checkIP('127.0.0.1'), 'certificate does not name 127.0.0.1');
    assert.equal(fs.statSync(path.join(gw.stateDir, 'tls', 'key.pem')).mode & 0o777, 0o600);
  });

  test('a second start with the same state dir reuses the certificate', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-reuse-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const fingerprints = [];
    for (const expectLog of [/msg="made self-signed certificate"/, /msg="using self-signed certificate"/]) {
      const g = await startRtcgate({ stateDir: dir });
      t.after(() => g.stopClean());
      await g.waitForLog(expectLog);
      const { cert } = await tlsHandshake(g.tlsPort, { ca: g.ca() });
      fingerprints.push(cert.fingerprint256);
      const stopped = await g.stop();
      assert.equal(stopped.code, 0);
    }
    assert.equal(fingerprints[1], fingerprints[0]);
  });
});

test('http.port=0 turns the plain listener off while HTTPS serves', async (t) => {
  const g = await startRtcgate({ overrides: ['http.port=0'] });
  t.after(() => g.stopClean());
  await g.waitForLog(/msg="ready".* http_port=0 /);
  const refused = await new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: g.httpPort });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e) => resolve(e.code));
  });
  assert.equal(refused, 'ECONNREFUSED');
  const r = await getJson(g, '/healthz', { tls: true });
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'ok');
});
