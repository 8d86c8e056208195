// Throw-away certificates for TLS PBXs in tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A throw-away CA, a certificate it signs for 127.0.0.1 and a second, unrelated CA. */
export function makeCerts() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-sip-tls-'));
  const f = (n) => path.join(dir, n);
  const ssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/CN=rtcgate test CA', '-days', '2');
  ssl('req', '-x509', ...ec, '-keyout', f('other.key'), '-out', f('other.pem'), '-subj', '/CN=another CA', '-days', '2');
  ssl('req', ...ec, '-keyout', f('pbx.key'), '-out', f('pbx.csr'), '-subj', '/CN=pbx.test');
  fs.writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1,DNS:pbx.test\n');
  ssl('x509', '-req', '-in', f('pbx.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('pbx.pem'), '-days', '2', '-extfile', f('ext'));
  return { dir, ca: f('ca.pem'), other: f('other.pem'), key: fs.readFileSync(f('pbx.key')), cert: fs.readFileSync(f('pbx.pem')) };
}
