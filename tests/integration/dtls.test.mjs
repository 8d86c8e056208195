// The WebRTC legs' DTLS certificate at start: made (a new one each start) or configured
// (media.dtls_cert / media.dtls_key), its SHA-256 fingerprint as SDP writes it, bad files refused.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BIN, run, startRtcgate } from './lib/rtcgate.mjs';

const FP_LINE = /msg="certificate ready" fingerprint="sha-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})" profiles=(\S+) made=(yes|no)/;

/** Start rtcgate, read its DTLS certificate line, stop it: {fingerprint, profiles, made, gw}. */
async function certLine(opts) {
  const gw = await startRtcgate(opts);
  try {
    const { line } = await gw.waitForLog(FP_LINE);
    const [, fingerprint, profiles, made] = line.match(FP_LINE);
    return { fingerprint, profiles, made, stateDir: gw.stateDir };
  } finally {
    await gw.stopClean();
  }
}

describe('DTLS certificate', () => {
  test('made at start: a fresh ECDSA certificate each start, GCM profiles offered first', async () => {
    const a = await certLine();
    const b = await certLine();
    assert.equal(a.made, 'yes');
    assert.notEqual(a.fingerprint, b.fingerprint);
    assert.match(a.profiles, /^SRTP_AEAD_AES_128_GCM:.*SRTP_AES128_CM_SHA1_80$/);
  });

  test('configured PEM files: the fingerprint is that certificate\'s SHA-256', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-dtls-'));
    try {
      const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      /* node makes no certificates: openssl(1) signs one for the key */
      const keyPath = path.join(dir, 'key.pem');
      const certPath = path.join(dir, 'cert.pem');
      fs.writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const r = await run('openssl', ['req', '-new', '-x509', '-key', keyPath, '-out', certPath,
        '-days', '30', '-subj', '/CN=dtls-test']);
      assert.equal(r.code, 0, r.stderr);
      const want = new crypto.X509Certificate(fs.readFileSync(certPath)).fingerprint256;
      const got = await certLine({ overrides: [`media.dtls_cert=${certPath}`, `media.dtls_key=${keyPath}`] });
      assert.equal(got.made, 'no');
      assert.equal(got.fingerprint, want);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing or mismatched file stops the start with a reason naming it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-dtls-'));
    try {
      const missing = path.join(dir, 'nope.pem');
      const common = ['-o', `general.state_dir=${dir}`, '-o', 'http.port=0', '-o', 'http.tls_port=0',
        '-o', 'turn.port=0', '-o', `media.dtls_key=${missing}`];
      let r = await run(BIN, [...common, '-o', `media.dtls_cert=${missing}`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /start failed.*media\.dtls_cert.*cannot open .*nope\.pem/);
      /* a certificate with some other key */
      const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const other = path.join(dir, 'other.pem');
      const keyPath = path.join(dir, 'key.pem');
      const certPath = path.join(dir, 'cert.pem');
      fs.writeFileSync(other, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      r = await run('openssl', ['req', '-new', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
        '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=x']);
      assert.equal(r.code, 0, r.stderr);
      r = await run(BIN, [...common.slice(0, -2), '-o', `media.dtls_cert=${certPath}`, '-o', `media.dtls_key=${other}`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /does not match the certificate/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
