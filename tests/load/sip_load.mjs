// Call-setup load generator for sip_setup_bench.sh: many raw SIP-over-WebSocket flows (RFC 7118)
// toward rtcgate, each REGISTERs once, then calls are started at a target rate across the idle
// flows: INVITE with plain SDP, on the 200 ACK and BYE at once. Per rate step it prints the
// call setups per second reached (INVITE sent to 200 received), setup latency p50/p99, failures,
// and rtcgate's CPU (utime+stime from /proc/<pid>/stat) per setup and as a share of one core.
//   node sip_load.mjs --url ws://127.0.0.1:PORT/sip --pid PID [--flows 200] [--seconds 10]
//                     [--rates 100,200,400,800] [--login bench]
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    pid: { type: 'string' },
    flows: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    rates: { type: 'string', default: '100,200,400,800' },
    login: { type: 'string', default: 'bench' },
    hz: { type: 'string', default: '100' },
  },
});
const FLOWS = Number(opt.flows);
const SECONDS = Number(opt.seconds);
const RATES = opt.rates.split(',').map(Number);
const HZ = Number(opt.hz);
const CALL_TIMEOUT_MS = 5000;
const HOST = 'load.invalid';
const token = () => randomBytes(8).toString('hex');

function cpuTicks() {
  const stat = fs.readFileSync(`/proc/${opt.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return Number(f[11]) + Number(f[12]); // utime (14) + stime (15)
}

/** The headers of a SIP message we need: status, Call-ID, CSeq method, To tag, Contact URI. */
function parse(text) {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  const lines = head.split('\r\n');
  const h = (name) => lines.find((l) => l.toLowerCase().startsWith(name))?.replace(/^[^:]*:\s*/, '');
  const status = /^SIP\/2\.0 (\d{3})/.exec(lines[0]);
  return {
    status: status ? Number(status[1]) : 0,
    callId: h('call-id:'),
    method: h('cseq:')?.split(' ')[1],
    toTag: /;tag=([^;>\s]+)/.exec(h('to:') ?? '')?.[1],
    contact: /<([^>]+)>/.exec(h('contact:') ?? '')?.[1],
  };
}

const sdp = (port) =>
  ['v=0', `o=- ${port} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv', ''].join('\r\n');

function request(method, uri, { callId, fromTag, to, cseq, contact, body = '' }) {
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/WSS ${HOST};branch=z9hG4bK${token()}`,
    'Max-Forwards: 70',
    `To: ${to}`,
    `From: <sip:${opt.login}@pbx.example>;tag=${fromTag}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    ...(contact ? [`Contact: <sip:${contact}@${HOST};transport=ws>`] : []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

class Flow {
  constructor(i) {
    this.i = i;
    this.call = null;
  }

  async open() {
    this.ws = new WebSocket(opt.url, 'sip');
    await once(this.ws, 'open');
    this.ws.on('message', (m) => this.onMessage(parse(m.toString())));
    const callId = token();
    const registered = new Promise((resolve) => (this.onRegister = resolve));
    this.ws.send(request('REGISTER', 'sip:pbx.example', {
      callId, fromTag: token(), to: `<sip:${opt.login}@pbx.example>`, cseq: 1, contact: `f${this.i}`,
    }).replace('Content-Length', 'Expires: 600\r\nContent-Length'));
    const status = await registered;
    if (status !== 200) throw new Error(`REGISTER of flow ${this.i}: ${status}`);
  }

  /** Start a call; done(result) once it is over: {ok, ms} or {ok: false, status}. */
  invite(done) {
    const c = { callId: token(), fromTag: token(), to: '<sip:1000@pbx.example>', t0: process.hrtime.bigint(), done };
    c.timer = setTimeout(() => this.finish({ ok: false, status: 'timeout' }), CALL_TIMEOUT_MS);
    this.call = c;
    this.ws.send(request('INVITE', 'sip:1000@pbx.example', { ...c, cseq: 1, contact: `f${this.i}`, body: sdp(20000 + this.i * 2) }));
  }

  finish(result) {
    const c = this.call;
    if (!c) return;
    clearTimeout(c.timer);
    this.call = null;
    c.done(result);
  }

  onMessage(m) {
    if (m.method === 'REGISTER' && m.status >= 200) return this.onRegister(m.status);
    const c = this.call;
    if (!c || m.callId !== c.callId || m.status < 200) return;
    if (m.method === 'INVITE' && m.status >= 300) return this.finish({ ok: false, status: m.status });
    if (m.method === 'INVITE') {
      c.ms = Number(process.hrtime.bigint() - c.t0) / 1e6;
      const dialog = { ...c, to: `${c.to};tag=${m.toTag}` };
      this.ws.send(request('ACK', m.contact, { ...dialog, cseq: 1 }));
      this.ws.send(request('BYE', m.contact, { ...dialog, cseq: 2 }));
    } else if (m.method === 'BYE') {
      this.finish(m.status === 200 ? { ok: true, ms: c.ms } : { ok: false, status: `BYE ${m.status}` });
    }
  }
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

/** Calls at rate per second for SECONDS over the idle flows; resolves the step's figures. */
async function step(flows, rate) {
  const idle = [...flows];
  const lat = [];
  const fails = {};
  let started = 0;
  let ended = 0;
  let starved = 0;
  const ticks0 = cpuTicks();
  const t0 = Date.now();
  const done = (f) => (r) => {
    ended++;
    idle.push(f);
    if (r.ok) lat.push(r.ms);
    else fails[r.status] = (fails[r.status] ?? 0) + 1;
  };
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (Date.now() - t0) / 1000;
      const due = Math.min(rate * SECONDS, Math.floor(rate * elapsed)) - started - starved;
      for (let k = 0; k < due; k++) {
        const f = idle.pop();
        if (!f) {
          starved++;
          continue;
        }
        started++;
        f.invite(done(f));
      }
      if (elapsed >= SECONDS) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  // the last calls finish, bounded by their own timeout
  for (let i = 0; i < 200 && ended < started; i++) await new Promise((r) => setTimeout(r, 50));
  const wall = (Date.now() - t0) / 1000;
  const cpu = (cpuTicks() - ticks0) / HZ;
  lat.sort((a, b) => a - b);
  return { rate, started, answered: lat.length, starved, fails, wall, cpu, lat };
}

async function main() {
  const flows = [];
  for (let i = 0; i < FLOWS; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(FLOWS, i + 50); j++) batch.push(new Flow(j));
    await Promise.all(batch.map((f) => f.open()));
    flows.push(...batch);
  }
  console.log(`${FLOWS} flows registered; ${SECONDS} s per step; rtcgate pid ${opt.pid}`);
  console.log('target/s  setups/s  p50_ms  p99_ms  failed  starved  cpu_%core  cpu_us/setup  setups/s@100%');
  for (const rate of RATES) {
    const r = await step(flows, rate);
    const cps = r.answered / SECONDS;
    const share = r.cpu / r.wall;
    const nfail = Object.values(r.fails).reduce((a, b) => a + b, 0);
    console.log(
      [String(rate).padStart(8), cps.toFixed(0).padStart(8), pct(r.lat, 50).toFixed(1).padStart(6),
        pct(r.lat, 99).toFixed(1).padStart(6), String(nfail).padStart(6), String(r.starved).padStart(7),
        (share * 100).toFixed(0).padStart(9), ((r.cpu / Math.max(1, r.answered)) * 1e6).toFixed(0).padStart(12),
        (r.answered / Math.max(r.cpu, 1e-9)).toFixed(0).padStart(13)].join('  '),
      nfail ? JSON.stringify(r.fails) : '',
    );
  }
  for (const f of flows) f.ws.close();
}

await main();
