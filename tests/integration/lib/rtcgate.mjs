// Test helper: start build/rtcgate on free loopback ports, follow its log, talk HTTP/HTTPS/raw TCP to it.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import parsePrometheus from 'parse-prometheus-text-format';

export const REPO =
  process.env.RTCGATE_SOURCE_ROOT || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = process.env.RTCGATE_BIN || path.join(REPO, 'build', 'rtcgate');
export const CTL_BIN = process.env.RTCGATECTL_BIN || path.join(path.dirname(BIN), 'rtcgatectl');
export const WEB_ROOT = path.join(REPO, 'web');

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/* Every gateway still running when the test process exits is killed, so none outlives a crash. */
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/** A UDP port that was free on every address (IPv4 and IPv6) a moment ago. */
export async function freeUdpPort() {
  const sock = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  sock.bind(0, '::');
  await once(sock, 'listening');
  const { port } = sock.address();
  await new Promise((resolve) => sock.close(resolve));
  return port;
}

/** Reject with a clear message when promise has not settled within ms. */
export function withTimeout(promise, ms, what) {
  let timer;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/**
 * Poll check() every 100 ms until it returns a truthy value, which it returns; an assertion
 * fails after timeoutMs. For state that changes with no event to await (a counter, a gauge).
 */
export async function until(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  do {
    const last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100)); /* the polling interval, bounded above */
  } while (Date.now() < deadline);
  assert.fail(`timed out waiting for ${what}`);
}

/** Run a program to completion: {code, stdout, stderr}. */
export function run(file, args, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

/**
 * Run build/rtcgatectl against gw's store (a config file naming gw.stateDir): {code, stdout, stderr}.
 * input, when given, is written to its stdin (for --secret -).
 */
export function ctl(gw, args, { input } = {}) {
  const conf = path.join(gw.stateDir, 'rtcgatectl.conf');
  if (!fs.existsSync(conf)) fs.writeFileSync(conf, `[general]\nstate_dir = ${gw.stateDir}\n`);
  return new Promise((resolve, reject) => {
    const child = execFile(CTL_BIN, ['--config', conf, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** The value of an Authorization header for HTTP Basic (RFC 7617). */
export const basicAuth = (user, pass) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

/** Add a device with remote access through rtcgatectl; throws unless it worked. */
export async function addRemoteDevice(gw, login, secret) {
  const r = await ctl(gw, ['device', 'add', login, '--secret', secret, '--remote-access']);
  if (r.code !== 0) throw new Error(`rtcgatectl device add ${login}: ${r.code} ${r.stderr}`);
}

/** Write text to a fresh file in a fresh temp dir; returns its path. */
export function tempFile(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-conf-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/**
 * Start rtcgate and resolve once it logged msg="ready".
 *   config:   INI text, or a function ({httpPort, tlsPort, stateDir}) → text, written to
 *             <state_dir>/rtcgate.conf and passed with --config
 *   overrides: extra "section.key=value" strings, passed as -o after the helper's own
 *   env:      extra environment variables
 *   stateDir: reuse this directory (it is then left in place by cleanup)
 *   portOverrides: false leaves http.port/http.tls_port to the config file
 *   turn:     true starts the STUN/TURN listeners on free ports (gw.turnPort for UDP and
 *             TCP, gw.turnTlsPort for TLS); otherwise they are off, so tests never share 3478
 */
export async function startRtcgate({
  config,
  overrides = [],
  env = {},
  stateDir,
  portOverrides = true,
  args = [],
  turn = false,
} = {}) {
  let lastError;
  /* a port picked by freePort() may be taken by someone else before we bind it: retry then */
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce({ config, overrides, env, stateDir, portOverrides, args, turn });
    } catch (err) {
      lastError = err;
      if (!/cannot listen/.test(err.message)) throw err;
    }
  }
  throw lastError;
}

async function startOnce({ config, overrides, env, stateDir, portOverrides, args, turn }) {
  const ownsStateDir = !stateDir;
  const dir = stateDir || fs.mkdtempSync(path.join(os.tmpdir(), 'rtcgate-state-'));
  const httpPort = await freePort();
  const tlsPort = await freePort();
  const turnPort = turn ? await freeUdpPort() : 0;
  const turnTlsPort = turn ? await freePort() : 0;
  /* the PBX-side SIP socket: never the shared 5060 */
  const sipPort = await freeUdpPort();
  const configPath = path.join(dir, 'rtcgate.conf');
  const render = (text) => (typeof text === 'function' ? text({ httpPort, tlsPort, stateDir: dir }) : text);
  const argv = [];
  if (config !== undefined) {
    fs.writeFileSync(configPath, render(config));
    argv.push('--config', configPath);
  }
  argv.push('-o', `general.state_dir=${dir}`, '-o', 'http.address=127.0.0.1');
  if (portOverrides) argv.push('-o', `http.port=${httpPort}`, '-o', `http.tls_port=${tlsPort}`);
  argv.push('-o', `http.web_root=${WEB_ROOT}`, '-o', `turn.port=${turnPort}`);
  argv.push('-o', `turn.tls_port=${turnTlsPort}`);
  argv.push('-o', `sip.port=${sipPort}`, '-o', 'sip.address=127.0.0.1');
  for (const o of overrides) argv.push('-o', o);
  /* RTCGATE_OVERRIDES="media.io=syscalls …": a whole test file on another configuration */
  for (const o of (process.env.RTCGATE_OVERRIDES || '').split(/\s+/).filter(Boolean)) argv.push('-o', o);
  argv.push(...args);

  /* without JOURNAL_STREAM the log lines are plain logfmt with ts= */
  const childEnv = { ...process.env, ...env };
  delete childEnv.JOURNAL_STREAM;
  const child = spawn(BIN, argv, {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  const stderrLines = [];
  const lineListeners = new Set();
  let partial = '';
  let exitInfo = null;
  let closed = false; // exited and all of stderr read
  let signalAt = 0;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal, ms: signalAt ? Date.now() - signalAt : null };
      running.delete(child);
      resolve(exitInfo);
    });
  });
  child.on('close', () => (closed = true));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    for (const line of parts) {
      stderrLines.push(line);
      for (const fn of lineListeners) fn(line, stderrLines.length - 1);
    }
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c) => (stdout += c));

  /**
   * Resolve with {line, index} for the first line matching re at index >= after (lines
   * already seen count too). opts: {after, timeoutMs}, or just timeoutMs.
   */
  function waitForLog(re, opts = {}) {
    const { after = 0, timeoutMs = 5000 } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
    for (let i = after; i < stderrLines.length; i++) {
      if (re.test(stderrLines[i])) return Promise.resolve({ line: stderrLines[i], index: i });
    }
    if (closed) return Promise.reject(new Error(`rtcgate exited (${JSON.stringify(exitInfo)}) without logging ${re}\n` + tail()));
    let onLine, onExit;
    const p = new Promise((resolve, reject) => {
      onLine = (line, index) => {
        if (index >= after && re.test(line)) resolve({ line, index });
      };
      onExit = () => reject(new Error(`rtcgate exited (${JSON.stringify(exitInfo)}) before logging ${re}\n` + tail()));
      lineListeners.add(onLine);
      /* stderr may still hold lines after 'exit': give 'close' (all output read) the last word */
      child.once('close', onExit);
    });
    return withTimeout(p, timeoutMs, `log line ${re}\n${tail()}`).finally(() => {
      lineListeners.delete(onLine);
      child.off('close', onExit);
    });
  }

  const tail = () => 'rtcgate stderr (last lines):\n  ' + stderrLines.slice(-15).join('\n  ');

  async function cleanup() {
    if (ownsStateDir) fs.rmSync(dir, { recursive: true, force: true });
    if (config !== undefined && !ownsStateDir) fs.rmSync(configPath, { force: true });
  }

  const gw = {
    pid: child.pid,
    child,
    httpPort,
    turnPort,
    turnTlsPort,
    sipPort,
    tlsPort,
    stateDir: dir,
    configPath,
    certPath: path.join(dir, 'tls', 'cert.pem'),
    httpUrl: `http://127.0.0.1:${httpPort}`,
    httpsUrl: `https://127.0.0.1:${tlsPort}`,
    wsUrl: `ws://127.0.0.1:${httpPort}/sip`,
    wssUrl: `wss://127.0.0.1:${tlsPort}/sip`,
    stderrLines,
    exited,
    get stdout() {
      return stdout;
    },
    get exitInfo() {
      return exitInfo;
    },
    tail,
    /** Index to pass as {after} so only lines logged from now on match. */
    mark: () => stderrLines.length,
    waitForLog,
    /** Rewrite the --config file (text or function of the ports). */
    writeConfig: (text) => fs.writeFileSync(configPath, render(text)),
    signal(name) {
      signalAt = Date.now();
      child.kill(name);
    },
    /** The certificate the HTTPS listener serves (self-signed, made in state_dir). */
    ca: () => fs.readFileSync(path.join(dir, 'tls', 'cert.pem')),
    /** SIGTERM (or sig), await exit; {code, signal, ms} with ms from signal to exit. */
    async stop(sig = 'SIGTERM') {
      if (!exitInfo) {
        gw.signal(sig);
        try {
          await withTimeout(exited, STOP_TIMEOUT_MS, `rtcgate pid ${child.pid} to exit after ${sig}`);
        } catch (err) {
          child.kill('SIGKILL');
          await exited;
          await cleanup();
          throw err;
        }
      }
      await cleanup();
      return exitInfo;
    },
    /**
     * Stop and throw unless the exit was clean: code 0 and no sanitizer report on stderr.
     * Meant for after() hooks, so every test file notices a crash or leak at shutdown.
     */
    async stopClean(sig = 'SIGTERM') {
      const info = await gw.stop(sig);
      const report = stderrLines.find((l) => /ERROR: (Address|Leak)Sanitizer|runtime error:/.test(l));
      if (info.code !== 0 || report)
        throw new Error(`rtcgate did not stop cleanly: ${JSON.stringify(info)}${report ? ` (${report})` : ''}\n${tail()}`);
      return info;
    },
  };

  try {
    await waitForLog(/msg="ready"/, { timeoutMs: READY_TIMEOUT_MS });
  } catch (err) {
    if (!exitInfo) {
      child.kill('SIGKILL');
      await exited;
    }
    await cleanup();
    throw new Error(`rtcgate did not become ready: ${err.message}`);
  }
  return gw;
}

/**
 * One HTTP(S) request on a fresh connection: {status, headers, body, tlsProtocol}.
 * tls: true goes to the TLS port and verifies the self-signed certificate.
 */
export function request(gw, { tls = false, method = 'GET', path: p = '/', headers = {}, body } = {}) {
  const mod = tls ? https : http;
  const opts = {
    host: '127.0.0.1',
    port: tls ? gw.tlsPort : gw.httpPort,
    method,
    path: p,
    headers,
    agent: false,
    ...(tls ? { ca: gw.ca() } : {}), // trust exactly the gateway's self-signed certificate
  };
  const req = mod.request(opts);
  const done = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      const chunks = [];
      const tlsProtocol = tls ? res.socket.getProtocol() : null;
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), tlsProtocol }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.end(body);
  return withTimeout(done, 5000, `${method} ${p} (${tls ? 'https' : 'http'})`);
}

/** GET path as JSON over http or https (headers: extra request headers). */
export async function getJson(gw, p, { tls = false, headers = {} } = {}) {
  const r = await request(gw, { tls, path: p, headers });
  return { ...r, json: JSON.parse(r.body) };
}

/**
 * Send raw bytes on a fresh TCP (or TLS, with tls: gw) connection and collect everything
 * until the connection closes. Resolves {data: latin1 string, bytes, error: code or null};
 * a reset is reported in error, never thrown. Rejects only on the timeout guard.
 */
export function rawExchange(port, payload, { timeoutMs = 5000, tls: tlsGw = null } = {}) {
  const sock = tlsGw
    ? tls.connect({ host: '127.0.0.1', port, ca: tlsGw.ca(), servername: 'localhost' })
    : net.connect({ host: '127.0.0.1', port });
  const chunks = [];
  let error = null;
  const done = new Promise((resolve) => {
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => (error = e.code || String(e)));
    sock.on('close', () => {
      const buf = Buffer.concat(chunks);
      resolve({ data: buf.toString('latin1'), bytes: buf.length, error });
    });
  });
  sock.on(tlsGw ? 'secureConnect' : 'connect', () => {
    if (payload !== undefined && payload !== null) sock.write(payload);
  });
  return withTimeout(done, timeoutMs, `server to answer and close a raw connection on port ${port}`).finally(() =>
    sock.destroy(),
  );
}

/** Split a raw HTTP/1.x response: {version, status, headers (lower-case names), body}. */
export function parseResponse(data) {
  const m = /^HTTP\/(1\.[01]) (\d{3})[^\r\n]*\r\n/.exec(data);
  if (!m) return null;
  const end = data.indexOf('\r\n\r\n');
  const head = data.slice(0, end < 0 ? data.length : end).split('\r\n').slice(1);
  const headers = {};
  for (const line of head) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { version: m[1], status: Number(m[2]), headers, body: end < 0 ? '' : data.slice(end + 4) };
}

/** GET /metrics and parse it: {families, contentType, sample(name, labels)}. */
export async function metrics(gw, { tls = false } = {}) {
  const r = await request(gw, { tls, path: '/metrics' });
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.body}`);
  const families = parsePrometheus(r.body);
  const byName = new Map(families.map((f) => [f.name, f]));
  return {
    families,
    contentType: r.headers['content-type'],
    family: (name) => byName.get(name),
    /** The value of the sample whose labels equal labels exactly, else undefined. */
    sample(name, labels = {}) {
      const f = byName.get(name);
      if (!f) return undefined;
      const want = Object.entries(labels);
      const m = f.metrics.find((s) => {
        const have = s.labels || {};
        return Object.keys(have).length === want.length && want.every(([k, v]) => have[k] === v);
      });
      return m === undefined ? undefined : Number(m.value);
    },
  };
}

/** /healthz answers 200 with status ok: the gateway still serves well-behaved clients. */
export async function assertHealthy(gw, assert) {
  const r = await request(gw, { path: '/healthz' });
  assert.equal(r.status, 200, `/healthz after the bad client: ${r.status} ${r.body}`);
  assert.equal(JSON.parse(r.body).status, 'ok');
}

/** Calls answered and in setup, and media sessions: all 0 once every call is over. */
export async function callGauges(gw) {
  const m = await metrics(gw);
  return {
    answered: m.sample('rtcgate_sip_calls', { state: 'answered' }),
    setup: m.sample('rtcgate_sip_calls', { state: 'setup' }),
    sessions: m.sample('rtcgate_media_sessions'),
  };
}
