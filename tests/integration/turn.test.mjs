// TURN over UDP against real peers: coturn's turnutils_uclient (long-term and REST credentials)
// relaying to turnutils_peer, then hostile and wrong requests from an independent client, and the
// relaying still working afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { addRemoteDevice, basicAuth, freeUdpPort, getJson, metrics, run, startRtcgate, until } from './lib/rtcgate.mjs';
import { longTermKeySha256, restPassword } from './lib/stun.mjs';
import { ALLOCATE, ATTR, REFRESH, SUCCESS, TurnClient, UDP_TRANSPORT, lifetime } from './lib/turnclient.mjs';

let gw;
let peerPort;
let peer;

before(async () => {
  peerPort = await freeUdpPort();
  peer = spawn('turnutils_peer', ['-p', String(peerPort), '-L', '127.0.0.1'], { stdio: 'ignore' });
  gw = await startRtcgate({
    turn: true,
    overrides: [
      'turn.users=alice:wonderland,quota:quota',
      'turn.secrets=northsecret,oldsecret',
      // the peer and its RTCP neighbour; the port after them is allowed and then denied
      `turn.allowed_peers=127.0.0.1:${peerPort}-${peerPort + 2}`,
      `turn.denied_peers=127.0.0.1:${peerPort + 2}`,
      'turn.max_allocations_per_user=30',
    ],
  });
});
after(async () => {
  peer?.kill();
  await gw?.stopClean();
});

/** turnutils_uclient against the peer; resolves {sent, received, lost}. */
async function uclient(auth, { clients = 4, messages = 50, tls = false, server = gw } = {}) {
  const port = tls ? server.turnTlsPort : server.turnPort;
  const args = [...auth, '-e', '127.0.0.1', '-r', String(peerPort), '-p', String(port)];
  args.push('-n', String(messages), '-m', String(clients), '-l', '172', '127.0.0.1');
  const r = await run('turnutils_uclient', args, 60_000);
  const out = r.stdout + r.stderr;
  const totals = [...out.matchAll(/tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/g)].pop();
  const lost = /Total lost packets (\d+)/.exec(out);
  assert.ok(totals && lost, `no summary from turnutils_uclient:\n${out.slice(-2000)}`);
  return { sent: Number(totals[1]), received: Number(totals[2]), lost: Number(lost[1]) };
}

describe('turnutils_uclient relays through rtcgate to turnutils_peer', () => {
  test('long-term credentials (-u/-w) with DONT-FRAGMENT (-g): no loss on a paced run', async () => {
    const r = await uclient(['-g', '-u', 'alice', '-w', 'wonderland']);
    assert.equal(r.sent, 200);
    assert.equal(r.received, r.sent);
    assert.equal(r.lost, 0);
  });

  test('TURN REST shared secret (-W), the second of two secrets: no loss', async () => {
    const r = await uclient(['-W', 'oldsecret', '-u', 'bob'], { clients: 2 });
    assert.equal(r.sent, 100);
    assert.equal(r.received, r.sent);
    assert.equal(r.lost, 0);
  });

  test('over TCP (-t), long-term credentials: no loss', async () => {
    const r = await uclient(['-t', '-u', 'alice', '-w', 'wonderland'], { clients: 2 });
    assert.equal(r.sent, 100);
    assert.equal(r.received, r.sent);
    assert.equal(r.lost, 0);
  });

  test('over TLS (-S -t), long-term credentials: no loss', async () => {
    const r = await uclient(['-S', '-t', '-u', 'alice', '-w', 'wonderland'], { clients: 2, tls: true });
    assert.equal(r.sent, 100);
    assert.equal(r.received, r.sent);
    assert.equal(r.lost, 0);
  });

  test('over TCP (-t), TURN REST secret: no loss', async () => {
    const r = await uclient(['-t', '-W', 'northsecret', '-u', 'dave'], { clients: 2 });
    assert.equal(r.received, r.sent);
    assert.equal(r.lost, 0);
  });
});

describe('refusals', () => {
  const clients = [];
  const open = async (family = 4) => {
    const c = await TurnClient.open(gw.turnPort, family);
    clients.push(c);
    return c;
  };
  after(() => clients.forEach((c) => c.close()));

  test('no credentials: 401 with REALM and a NONCE carrying the RFC 8489 cookie', async () => {
    const c = await open();
    const a = await c.allocate('alice', 'wonderland');
    assert.equal(c.challenge.code, 401);
    assert.equal(c.challenge.attrs.get(ATTR.ERROR_CODE).subarray(4).toString(), 'Unauthorized');
    assert.equal(c.challenge.attrs.get(ATTR.REALM).toString(), 'rtcgate');
    assert.match(c.challenge.attrs.get(ATTR.NONCE).toString(), /^obMatJos2/);
    assert.equal(a.cls, SUCCESS, `code ${a.code}`);
  });

  test('MESSAGE-INTEGRITY-SHA256 with PASSWORD-ALGORITHM SHA-256: answered in kind', async () => {
    const c = await open();
    const first = await c.request(ALLOCATE, [UDP_TRANSPORT]);
    const algs = first.attrs.get(0x8002);
    assert.deepEqual([...algs], [0, 1, 0, 0, 0, 2, 0, 0]);
    const realm = first.attrs.get(ATTR.REALM);
    const nonce = first.attrs.get(ATTR.NONCE);
    const key256 = longTermKeySha256('alice', realm.toString(), 'wonderland');
    const attrs = (offered) => [
      UDP_TRANSPORT,
      [0x001d, Buffer.from([0, 2, 0, 0])],
      [0x8002, offered],
      [ATTR.USERNAME, Buffer.from('alice')],
      [ATTR.REALM, realm],
      [ATTR.NONCE, nonce],
    ];
    /* bid-down protection: a PASSWORD-ALGORITHMS that is not what we offered is refused */
    const forged = await c.request(ALLOCATE, attrs(Buffer.from([0, 2, 0, 0])), { key256 });
    assert.equal(forged.code, 400);
    const a = await c.request(ALLOCATE, attrs(algs), { key256 });
    assert.equal(a.cls, SUCCESS, `code ${a.code}`);
    assert.ok(a.attrs.has(0x001c), 'no MESSAGE-INTEGRITY-SHA256 in the answer');
    assert.ok(!a.attrs.has(0x0008), 'a SHA-1 MESSAGE-INTEGRITY in the answer');
  });

  test('wrong password: 401', async () => {
    const c = await open();
    const a = await c.allocate('alice', 'not-the-password');
    assert.equal(a.code, 401);
  });

  test('expired REST credential: 401, counted as expired_credential', async () => {
    const c = await open();
    const user = `${Math.floor(Date.now() / 1000) - 60}:carol`;
    const a = await c.allocate(user, restPassword('northsecret', user));
    assert.equal(a.code, 401);
    const m = await metrics(gw);
    assert.ok(m.sample('rtcgate_turn_auth_failures_total', { reason: 'expired_credential' }) >= 1);
  });

  test('a nonce issued to another client address: 438 Stale Nonce with a fresh one', async () => {
    const c1 = await open();
    const c2 = await open();
    await c1.allocate('alice', 'wonderland');
    Object.assign(c2, { user: c1.user, realm: c1.realm, key: c1.key });
    const a = await c2.signed(ALLOCATE, [[ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0])]], {
      nonce: c1.nonce,
    });
    assert.equal(a.code, 438);
    assert.equal(a.attrs.get(ATTR.ERROR_CODE).subarray(4).toString(), 'Stale Nonce');
    assert.notDeepEqual(a.attrs.get(ATTR.NONCE), c1.nonce);
  });

  const peers = () => [
    ['loopback outside the allowed ports', '127.0.0.1', peerPort + 5, 4],
    ['0.0.0.0 (CVE-2020-26262)', '0.0.0.0', peerPort, 4],
    ['a denied CIDR inside the allowed range', '127.0.0.1', peerPort + 2, 4],
    ['IPv4-mapped loopback on an IPv6 relay', '::ffff:127.0.0.1', peerPort + 5, 6],
    ['IPv6 loopback', '::1', peerPort, 6],
  ];
  for (const [what, ip, port, family] of peers()) {
    test(`peer ${what}: 403, and counted`, async () => {
      const before = (await metrics(gw)).sample('rtcgate_turn_denied_total', { reason: 'peer_policy' });
      const c = await open(family);
      const extra = family === 6 ? [[ATTR.REQUESTED_ADDRESS_FAMILY, Buffer.from([2, 0, 0, 0])]] : [];
      const a = await c.allocate('alice', 'wonderland', extra);
      assert.equal(a.cls, SUCCESS, `allocate: ${a.code}`);
      const p = await c.createPermission(ip, port);
      assert.equal(p.code, 403);
      const now = (await metrics(gw)).sample('rtcgate_turn_denied_total', { reason: 'peer_policy' });
      assert.equal(now - before, 1);
    });
  }

  test('quota: the 31st allocation of one user gets 486', async () => {
    for (let i = 0; i < 30; i++) {
      const c = await open();
      assert.equal((await c.allocate('quota', 'quota')).cls, SUCCESS, `allocation ${i + 1}`);
    }
    const c = await open();
    assert.equal((await c.allocate('quota', 'quota')).code, 486);
  });

  test('an attribute after MESSAGE-INTEGRITY is ignored: LIFETIME 0 there frees nothing', async () => {
    const c = await open();
    assert.equal((await c.allocate('alice', 'wonderland')).cls, SUCCESS);
    const r = await c.signed(REFRESH, [], { after: [lifetime(0)] });
    assert.equal(r.cls, SUCCESS);
    assert.ok(r.attrs.get(ATTR.LIFETIME).readUInt32BE(0) >= 600);
    const again = await c.signed(REFRESH, [lifetime(0)]);
    assert.equal(again.attrs.get(ATTR.LIFETIME).readUInt32BE(0), 0);
  });
});

test('/config hands a remote-access device a TURN REST credential that expires in a day and works', async () => {
  await addRemoteDevice(gw, 'remote1', 'remote-secret-1');
  const r = await getJson(gw, '/config', { headers: { authorization: basicAuth('remote1', 'remote-secret-1') } });
  const turns = r.json.iceServers.filter((s) => /^turns?:/.test(s.urls[0]));
  assert.deepEqual(
    turns.map((t) => t.urls[0]),
    [
      `turn:127.0.0.1:${gw.turnPort}?transport=udp`,
      `turn:127.0.0.1:${gw.turnPort}?transport=tcp`,
      `turns:127.0.0.1:${gw.turnTlsPort}?transport=tcp`,
    ],
  );
  const turn = turns[0];
  assert.match(turn.username, /^\d+:remote1$/);
  const expiry = Number(turn.username.split(':')[0]);
  const inDay = Math.floor(Date.now() / 1000) + 86400;
  assert.ok(Math.abs(expiry - inDay) < 60, `expiry ${expiry}`);
  assert.equal(turn.credential, restPassword('northsecret', turn.username));
  const c = await TurnClient.open(gw.turnPort);
  try {
    assert.equal((await c.allocate(turn.username, turn.credential)).cls, SUCCESS);
  } finally {
    c.close();
  }
});

test('TURN over TLS refuses TLS 1.1', async () => {
  const tls = await import('node:tls');
  const sock = tls.connect({
    host: '127.0.0.1',
    port: gw.turnTlsPort,
    rejectUnauthorized: false,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
  });
  const outcome = await new Promise((resolve) => {
    sock.once('secureConnect', () => resolve('connected'));
    sock.once('error', (e) => resolve(e.code || String(e)));
  });
  sock.destroy();
  assert.notEqual(outcome, 'connected');
});

test('a TCP client that does not speak TURN is disconnected; others are served', async () => {
  const net = await import('node:net');
  const sock = net.connect({ host: '127.0.0.1', port: gw.turnPort });
  await new Promise((resolve) => sock.once('connect', resolve));
  const closed = new Promise((resolve) => sock.once('close', resolve));
  sock.on('error', () => {});
  sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.replace('G', '\xff'));
  await closed;
  const c = await TurnClient.open(gw.turnPort);
  try {
    assert.equal((await c.allocate('alice', 'wonderland')).cls, SUCCESS);
  } finally {
    c.close();
  }
});

test('after all of that, relaying still works: no loss', async () => {
  const r = await uclient(['-u', 'alice', '-w', 'wonderland'], { clients: 2, messages: 20 });
  assert.equal(r.received, r.sent);
  assert.equal(r.lost, 0);
});

describe('turn.alternate_server', () => {
  let alt;
  before(async () => {
    alt = await startRtcgate({
      turn: true,
      overrides: ['turn.users=alice:wonderland', 'turn.alternate_server=192.0.2.9:3478'],
    });
  });
  after(() => alt?.stopClean());

  test('an authenticated Allocate is redirected with 300 and ALTERNATE-SERVER', async () => {
    const c = await TurnClient.open(alt.turnPort);
    try {
      const a = await c.allocate('alice', 'wonderland');
      assert.equal(a.code, 300);
      const v = a.attrs.get(0x8023);
      assert.equal(v[1], 1);
      assert.equal(v.readUInt16BE(2), 3478);
      assert.deepEqual([...v.subarray(4, 8)], [192, 0, 2, 9]);
    } finally {
      c.close();
    }
  });
});

describe('SIGHUP applies new TURN credentials and peer rules to the running workers', () => {
  let g;
  const conf = (pw) => `[turn]\nusers = alice:${pw}\nallowed_peers = 127.0.0.1:5000\n`;
  before(async () => {
    g = await startRtcgate({ turn: true, config: conf('one'), overrides: ['turn.workers=2'] });
  });
  after(() => g?.stopClean());

  test('the old password stops working, the new one works, nonces stay valid', async () => {
    const c = await TurnClient.open(g.turnPort);
    try {
      assert.equal((await c.allocate('alice', 'one')).cls, SUCCESS);
      const fs = await import('node:fs');
      fs.writeFileSync(g.configPath, conf('two'));
      const mark = g.mark();
      g.signal('SIGHUP');
      await g.waitForLog(/msg="config reloaded"/, { after: mark });
      /* the nonce issued before the reload is still good: the key carries over */
      const keep = await c.signed(REFRESH, [lifetime(600)]);
      /* 401, not 438: the nonce survived the reload; the old password did not */
      assert.equal(keep.code, 401);
      const d = await TurnClient.open(g.turnPort);
      try {
        assert.equal((await d.allocate('alice', 'one')).code, 401);
        assert.equal((await d.allocate('alice', 'two')).cls, SUCCESS);
        assert.equal((await d.createPermission('127.0.0.1', 5000)).cls, SUCCESS);
        assert.equal((await d.createPermission('127.0.0.1', 5001)).code, 403);
      } finally {
        d.close();
      }
    } finally {
      c.close();
    }
  });
});

// multishot mode needs IORING_SETUP_DEFER_TASKRUN (Linux 6.1)
function kernelAtLeast(major, minor) {
  const [a, b] = os.release().split('.').map((x) => parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}

// the listener on the wildcard (dual-stack, answers carry their source address) and on one IPv4
// address (an IPv4 socket: answers and relayed packets go out as plain sends with an address)
for (const [io, address] of [['io_uring', ''], ['syscalls', ''], ['io_uring', '127.0.0.1']]) {
  describe(`turn.io=${io}${address && ` turn.address=${address}`}`, () => {
    let server;
    before(async () => {
      server = await startRtcgate({
        turn: true,
        overrides: [
          'turn.users=alice:wonderland',
          `turn.allowed_peers=127.0.0.1:${peerPort}-${peerPort + 1}`,
          'turn.max_allocations_per_user=100',
          `turn.io=${io}`,
          ...(address ? [`turn.address=${address}`] : []),
        ],
      });
    });
    after(() => server?.stopClean());

    test('20 clients: no loss, every packet counted both ways', async () => {
      const count = async (side) => (await metrics(server)).sample('rtcgate_turn_packets_total', { side, direction: 'out' }) ?? 0;
      const r = await uclient(['-c', '-u', 'alice', '-w', 'wonderland'], { clients: 20, messages: 40, server });
      assert.equal(r.sent, 800);
      assert.equal(r.received, r.sent);
      assert.equal(r.lost, 0);
      assert.ok((await count('peer')) >= 800, 'client→peer packets counted');
      assert.ok((await count('client')) >= 800, 'peer→client packets counted');
      assert.ok(!server.stderrLines.some((l) => /io_uring unavailable/.test(l)), 'the worker kept its ring');
      if (io === 'io_uring' && kernelAtLeast(6, 1))
        assert.ok(!server.stderrLines.some((l) => /multishot receive unavailable/.test(l)), 'multishot receives on this kernel');
    });

    test('unpaced bursts: datagrams to one place leave as one UDP GSO send, and all arrive', async () => {
      const gso = async (side) => (await metrics(server)).sample('rtcgate_turn_gso_datagrams_total', { side }) ?? 0;
      const toPeers = async () => (await metrics(server)).sample('rtcgate_turn_packets_total', { side: 'peer', direction: 'out' }) ?? 0;
      const before = { client: await gso('client'), peer: await gso('peer'), toPeers: await toPeers() };
      // -z 0: each client sends its messages back to back, so the relay queues runs of them
      const r = await uclient(['-c', '-z', '0', '-u', 'alice', '-w', 'wonderland'], { clients: 10, messages: 200, server });
      assert.equal(r.sent, 2000);
      assert.equal(r.received, r.sent);
      assert.equal(r.lost, 0);
      // each datagram of a GSO send counted once: sends count from their completions, which
      // the worker reaps at its next wake-up (its timer ticks every second)
      await until(async () => (await toPeers()) - before.toPeers >= r.sent, 'client→peer datagrams counted', 5000);
      assert.equal((await toPeers()) - before.toPeers, r.sent, 'client→peer datagrams counted once each');
      const joined = { client: (await gso('client')) - before.client, peer: (await gso('peer')) - before.peer };
      if (io === 'io_uring' && kernelAtLeast(6, 1)) {
        assert.ok(joined.peer > 0 && joined.client > 0, `GSO sends toward peers and clients: ${JSON.stringify(joined)}`);
        assert.ok(!server.stderrLines.some((l) => /UDP GSO refused/.test(l)), 'the kernel took every GSO send');
      } else {
        assert.deepEqual(joined, { client: 0, peer: 0 }, 'no GSO without the multishot ring');
      }
    });

    test('allocations freed while their relays receive: no completion reaches a freed relay', async () => {
      // each relay's socket is still getting the peer's echoes when Refresh 0 closes it; the
      // next round's relay sockets may take the same descriptors. ASan (stopClean) checks the rest.
      // Every client is closed whatever fails: an open socket would keep this file running.
      const open = new Set();
      const client = async () => {
        const c = await TurnClient.open(server.turnPort);
        open.add(c);
        return c;
      };
      try {
        for (let round = 0; round < 3; round++) {
          const clients = [];
          for (let i = 0; i < 8; i++) {
            const c = await client();
            const a = await c.allocate('alice', 'wonderland');
            assert.equal(a.cls, SUCCESS, `Allocate answered ${a.code}`);
            assert.equal((await c.channelBind(0x4000, '127.0.0.1', peerPort)).cls, SUCCESS);
            clients.push(c);
          }
          for (const c of clients) for (let k = 0; k < 50; k++) c.channelData(0x4000, Buffer.alloc(160, k));
          for (const c of clients) {
            assert.equal((await c.signed(REFRESH, [lifetime(0)])).cls, SUCCESS);
            c.close();
            open.delete(c);
          }
        }
        const c = await client();
        assert.equal((await c.allocate('alice', 'wonderland')).cls, SUCCESS, 'the worker still serves');
        assert.equal((await c.channelBind(0x4000, '127.0.0.1', peerPort)).cls, SUCCESS);
        const echo = c.nextChannelData(0x4000);
        c.channelData(0x4000, Buffer.from('still relaying'));
        assert.equal((await echo).toString(), 'still relaying');
      } finally {
        for (const c of open) c.close();
      }
    });
  });
}

describe('turn.max_bandwidth', () => {
  let bw;
  before(async () => {
    bw = await startRtcgate({
      turn: true,
      overrides: [
        'turn.users=alice:wonderland',
        `turn.allowed_peers=127.0.0.1:${peerPort}-${peerPort + 1}`,
        'turn.max_bandwidth=20', // 2500 bytes/s; the run below needs about 17 kB/s
      ],
    });
  });
  after(() => bw?.stopClean());

  test('an allocation over its bandwidth loses packets, and they are counted', async () => {
    const args = ['-u', 'alice', '-w', 'wonderland', '-e', '127.0.0.1', '-r', String(peerPort)];
    args.push('-p', String(bw.turnPort), '-n', '50', '-m', '1', '-l', '172', '127.0.0.1');
    const r = await run('turnutils_uclient', args, 60_000);
    const lost = Number(/Total lost packets (\d+)/.exec(r.stdout + r.stderr)?.[1]);
    assert.ok(lost > 0, `lost ${lost}`);
    const m = await metrics(bw);
    assert.ok(m.sample('rtcgate_turn_denied_total', { reason: 'bandwidth' }) > 0);
  });
});
