// The STUN listener on the TURN port: coturn's turnutils_stunclient as an independent peer,
// hand-built requests over IPv4 and IPv6, error answers, garbage, no amplification, metrics.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { getJson, metrics, run, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { build, errorCode, parse, xorAddress } from './lib/stun.mjs';

const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const BINDING_ERROR = 0x0111;

let gw;
before(async () => {
  gw = await startRtcgate({ turn: true });
});
after(() => gw?.stopClean());

/** A UDP client that collects every answer it gets. */
async function client(family) {
  const sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  sock.bind(0, family === 6 ? '::1' : '127.0.0.1');
  await once(sock, 'listening');
  const host = family === 6 ? '::1' : '127.0.0.1';
  return {
    port: sock.address().port,
    send: (buf) => sock.send(buf, gw.turnPort, host),
    /** resolve with the next answer whose transaction id is tid */
    answer(tid) {
      return withTimeout(
        new Promise((resolve) => {
          const onMsg = (m) => {
            if (m.length >= 20 && m.subarray(8, 20).equals(tid)) {
              sock.off('message', onMsg);
              resolve(m);
            }
          };
          sock.on('message', onMsg);
        }),
        3000,
        'a STUN answer',
      );
    },
    close: () => sock.close(),
  };
}

async function exchange(c, msg, tid) {
  const p = c.answer(tid);
  c.send(msg);
  const raw = await p;
  assert.ok(raw.length <= msg.length + 32, `answer of ${raw.length} bytes to ${msg.length}: an amplifier`);
  return parse(raw);
}

describe('turnutils_stunclient (coturn) as the peer', () => {
  for (const [family, host, re] of [
    [4, '127.0.0.1', /UDP reflexive addr: 127\.0\.0\.1:(\d+)/],
    [6, '::1', /UDP reflexive addr: ::1:(\d+)/],
  ]) {
    test(`over IPv${family} it learns its reflexive address`, async () => {
      const r = await run('turnutils_stunclient', ['-p', String(gw.turnPort), host]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, re, r.stdout);
    });
  }
});

describe('Binding over UDP', () => {
  for (const family of [4, 6]) {
    test(`IPv${family}: XOR-MAPPED-ADDRESS is the client's address, FINGERPRINT echoed and right`, async () => {
      const c = await client(family);
      try {
        const { msg, tid } = build(BINDING_REQUEST, [], { fingerprint: true });
        const a = await exchange(c, msg, tid);
        assert.equal(a.type, BINDING_SUCCESS);
        const mapped = xorAddress(a.attrs.get(0x0020), a.tid);
        assert.equal(mapped.family, family);
        assert.equal(mapped.address, family === 6 ? '0:0:0:0:0:0:0:1' : '127.0.0.1');
        assert.equal(mapped.port, c.port);
        assert.equal(a.fingerprintOk, true);
      } finally {
        c.close();
      }
    });
  }

  test('a large request gets SOFTWARE naming rtcgate', async () => {
    const c = await client(4);
    try {
      const { msg, tid } = build(BINDING_REQUEST, [[0x8022, Buffer.from('test client with a long name')]]);
      const a = await exchange(c, msg, tid);
      assert.match(a.attrs.get(0x8022).toString(), /^rtcgate /);
    } finally {
      c.close();
    }
  });
});

describe('bad input on the STUN port', () => {
  test('unknown comprehension-required attribute: 420 with UNKNOWN-ATTRIBUTES', async () => {
    const c = await client(4);
    try {
      const { msg, tid } = build(BINDING_REQUEST, [[0x0031, Buffer.from('abcd')]]);
      const a = await exchange(c, msg, tid);
      assert.equal(a.type, BINDING_ERROR);
      assert.equal(errorCode(a.attrs.get(0x0009)), 420);
      assert.deepEqual([...a.attrs.get(0x000a)], [0x00, 0x31]);
    } finally {
      c.close();
    }
  });

  test('a request whose body does not parse: 400', async () => {
    const c = await client(4);
    try {
      const { msg, tid } = build(BINDING_REQUEST, [[0x0024, Buffer.from('abcd')]]);
      msg.writeUInt16BE(9, 22); // PRIORITY claims 9 bytes
      const a = await exchange(c, msg, tid);
      assert.equal(errorCode(a.attrs.get(0x0009)), 400);
    } finally {
      c.close();
    }
  });

  test('garbage is dropped silently and the server keeps answering', async () => {
    const before = (await metrics(gw)).sample('rtcgate_stun_messages_total', { result: 'not_stun' }) ?? 0;
    const c = await client(4);
    const junk = [
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05]), // TLS on the wrong port
      Buffer.from([0]),
      Buffer.alloc(19),
      Buffer.alloc(1400, 0xff),
      build(0x0101, [[0x8022, Buffer.from('x')]]).msg.subarray(0, 22), // a truncated response
    ];
    try {
      for (const j of junk) c.send(j);
      /* the same 5-tuple lands on the same worker, in order: when this is answered, the junk was seen */
      const { msg, tid } = build(BINDING_REQUEST);
      const a = await exchange(c, msg, tid);
      assert.equal(a.type, BINDING_SUCCESS);
      const after = (await metrics(gw)).sample('rtcgate_stun_messages_total', { result: 'not_stun' });
      assert.equal(after - before, junk.length);
    } finally {
      c.close();
    }
  });
});

test('packets and bytes are counted in both directions', async () => {
  const m = await metrics(gw);
  const pin = m.sample('rtcgate_turn_packets_total', { side: 'client', direction: 'in' });
  const pout = m.sample('rtcgate_turn_packets_total', { side: 'client', direction: 'out' });
  assert.ok(pin > 0 && pout > 0 && pout <= pin, `in ${pin} out ${pout}`);
  assert.ok(m.sample('rtcgate_turn_bytes_total', { side: 'client', direction: 'in' }) >= pin * 20);
});

test('/config offers this STUN server in iceServers', async () => {
  const r = await getJson(gw, '/config');
  assert.deepEqual(r.json.iceServers, [{ urls: [`stun:127.0.0.1:${gw.turnPort}`] }]);
});

describe('rate limit on unauthenticated requests (turn.request_rate=5, bursts of 10)', () => {
  let limited;
  before(async () => {
    limited = await startRtcgate({ turn: true, overrides: ['turn.request_rate=5', 'turn.workers=1'] });
  });
  after(() => limited?.stopClean());

  test('a burst of 30 Binding requests from one IP gets about 10 answers; another IP is served', async () => {
    const sock = dgram.createSocket('udp4');
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
    let answers = 0;
    sock.on('message', () => answers++);
    for (let i = 0; i < 30; i++) sock.send(build(BINDING_REQUEST).msg, limited.turnPort, '127.0.0.1');
    /* one worker: when the IPv6 client's answer is back, the burst was handled */
    const v6 = dgram.createSocket('udp6');
    v6.bind(0, '::1');
    await once(v6, 'listening');
    const { msg, tid } = build(BINDING_REQUEST);
    const got = withTimeout(
      new Promise((resolve) => v6.on('message', (m) => m.subarray(8, 20).equals(tid) && resolve(m))),
      3000,
      'the other IP to be answered',
    );
    v6.send(msg, limited.turnPort, '::1');
    assert.equal(parse(await got).type, BINDING_SUCCESS);
    const dropped = (await metrics(limited)).sample('rtcgate_turn_denied_total', { reason: 'rate_limit' });
    assert.ok(dropped >= 18 && dropped <= 20, `${dropped} dropped`);
    assert.equal(answers + dropped, 30);
    sock.close();
    v6.close();
  });
});
