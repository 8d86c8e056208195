// TURN methods beyond the basic Allocate, against an independent client written from the RFCs:
// EVEN-PORT and RESERVATION-TOKEN, dual allocations (ADDITIONAL-ADDRESS-FAMILY), USERHASH,
// 420 after authentication, all-or-nothing permissions and channels, quotas that count
// reservations and REST users, and the TCP limits (connections per IP, oversized frames).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { metrics, startRtcgate, withTimeout } from './lib/rtcgate.mjs';
import { longTermKey, restPassword, xorAddress } from './lib/stun.mjs';
import { ALLOCATE, ATTR, REFRESH, SUCCESS, TurnClient, UDP_TRANSPORT, family, lifetime } from './lib/turnclient.mjs';

const USERS = ['even', 'quota', 'perm', 'chan', 'hash', 'dual', 'tcp', 'big', 'unknown'];
let gw;
const echo = {};
const clients = [];

/** A UDP echo peer on addr; remembers the largest datagram it saw. */
async function echoPeer(type, addr) {
  const s = dgram.createSocket(type);
  s.largest = 0;
  s.on('message', (m, r) => {
    s.largest = Math.max(s.largest, m.length);
    s.send(m, r.port, r.address);
  });
  s.bind(0, addr);
  await once(s, 'listening');
  return s;
}

async function open(fam = 4) {
  const c = await TurnClient.open(gw.turnPort, fam);
  clients.push(c);
  return c;
}

async function openTcp() {
  const c = await TurnClient.openTcp(gw.turnPort);
  clients.push(c);
  return c;
}

const relays = (a) =>
  a.list.filter(([t]) => t === ATTR.XOR_RELAYED_ADDRESS).map(([, v]) => xorAddress(v, a.tid));

before(async () => {
  echo.v4 = await echoPeer('udp4', '127.0.0.1');
  echo.v6 = await echoPeer('udp6', '::1');
  const p4 = echo.v4.address().port;
  const p6 = echo.v6.address().port;
  gw = await startRtcgate({
    turn: true,
    overrides: [
      `turn.users=${USERS.map((u) => `${u}:pw-${u}`).join(',')}`,
      'turn.secrets=restsecret',
      `turn.allowed_peers=127.0.0.1:${p4},127.1.0.0/16,[::1]:${p6}`,
      'turn.max_allocations_per_user=4',
      'turn.max_connections_per_ip=3',
    ],
  });
});
after(async () => {
  clients.forEach((c) => c.close());
  echo.v4?.close();
  echo.v6?.close();
  await gw?.stopClean();
});

describe('EVEN-PORT and RESERVATION-TOKEN (RFC 8656 §7.2)', () => {
  test('an even port, a token kept on retransmission, redeemed once for the next port', async () => {
    const c = await open();
    const evenR = [ATTR.EVEN_PORT, Buffer.from([0x80])];
    assert.equal((await c.allocate('even', 'pw-even', [evenR])).cls, SUCCESS);
    // the same Allocate again (same transaction id) gets the same answer, token included
    const tid = crypto.randomBytes(12);
    await c.signed(REFRESH, [lifetime(0)]);
    const a = await c.signed(ALLOCATE, [UDP_TRANSPORT, evenR], { tid });
    assert.equal(a.cls, SUCCESS, `code ${a.code}`);
    const again = await c.signed(ALLOCATE, [UDP_TRANSPORT, evenR], { tid });
    assert.equal(again.cls, SUCCESS, `retransmission: ${again.code}`);
    const [relay] = relays(a);
    assert.equal(relay.port % 2, 0, `relay port ${relay.port} is odd`);
    const token = a.attrs.get(ATTR.RESERVATION_TOKEN);
    assert.equal(token?.length, 8, 'no RESERVATION-TOKEN');
    assert.deepEqual(again.attrs.get(ATTR.RESERVATION_TOKEN), token);
    assert.deepEqual(relays(again), [relay]);

    const d = await open();
    const r = await d.allocate('even', 'pw-even', [[ATTR.RESERVATION_TOKEN, token]]);
    assert.equal(r.cls, SUCCESS, `redeem: ${r.code}`);
    assert.deepEqual(relays(r), [{ ...relay, port: relay.port + 1 }]);
    const e = await open();
    assert.equal((await e.allocate('even', 'pw-even', [[ATTR.RESERVATION_TOKEN, token]])).code, 508);
    for (const x of [c, d]) assert.equal((await x.signed(REFRESH, [lifetime(0)])).cls, SUCCESS);
  });

  test('a RESERVATION-TOKEN with EVEN-PORT is a 400', async () => {
    const c = await open();
    const a = await c.allocate('even', 'pw-even', [
      [ATTR.EVEN_PORT, Buffer.from([0])],
      [ATTR.RESERVATION_TOKEN, Buffer.alloc(8, 1)],
    ]);
    assert.equal(a.code, 400);
  });
});

describe('quotas', () => {
  test('a port reservation holds a quota slot until it is redeemed', async () => {
    const a = await open();
    const r = await a.allocate('quota', 'pw-quota', [[ATTR.EVEN_PORT, Buffer.from([0x80])]]);
    assert.equal(r.cls, SUCCESS, `code ${r.code}`);
    for (let i = 0; i < 2; i++) assert.equal((await (await open()).allocate('quota', 'pw-quota')).cls, SUCCESS);
    // allocation + reservation + 2 allocations = 4 = turn.max_allocations_per_user
    const refused = await (await open()).allocate('quota', 'pw-quota');
    assert.equal(refused.code, 486);
    // another user redeems the token: the slot moves to them
    const other = await open();
    const token = r.attrs.get(ATTR.RESERVATION_TOKEN);
    assert.equal((await other.allocate('even', 'pw-even', [[ATTR.RESERVATION_TOKEN, token]])).cls, SUCCESS);
    assert.equal((await (await open()).allocate('quota', 'pw-quota')).cls, SUCCESS);
    await other.signed(REFRESH, [lifetime(0)]);
  });

  test('REST credentials of one user share its quota, whatever their expiry', async () => {
    const base = Math.floor(Date.now() / 1000) + 3600;
    const alloc = async (name) => (await open()).allocate(name, restPassword('restsecret', name));
    for (let i = 0; i < 4; i++) assert.equal((await alloc(`${base + i}:rest`)).cls, SUCCESS, `credential ${i}`);
    assert.equal((await alloc(`${base + 99}:rest`)).code, 486);
    assert.equal((await alloc(`${base}:someone-else`)).cls, SUCCESS);
  });
});

describe('permissions and channels are all or nothing (RFC 8656 §9.2, §11.2)', () => {
  const peers = (from, n, net = '127.1.0') => Array.from({ length: n }, (_, i) => [`${net}.${from + i}`, 5000]);

  test('a CreatePermission that does not fit installs none of its peers', async () => {
    const c = await open();
    assert.equal((await c.allocate('perm', 'pw-perm')).cls, SUCCESS);
    assert.equal((await c.createPermission(peers(1, 30))).cls, SUCCESS);
    assert.equal((await c.createPermission(peers(31, 3))).code, 508);
    // had the refused request installed two of its three, these two would not fit
    assert.equal((await c.createPermission(peers(40, 2))).cls, SUCCESS);
    assert.equal((await c.createPermission(peers(50, 1))).code, 508);
    // refreshing ones already held needs no room
    assert.equal((await c.createPermission(peers(1, 5))).cls, SUCCESS);
  });

  test('a ChannelBind whose permission does not fit binds nothing', async () => {
    const c = await open();
    assert.equal((await c.allocate('chan', 'pw-chan')).cls, SUCCESS);
    assert.equal((await c.createPermission(peers(1, 32, '127.1.1'))).cls, SUCCESS);
    assert.equal((await c.channelBind(0x4001, '127.1.1.99', 5000)).code, 508);
    // the number is still free: bound to another peer it would be a 400
    assert.equal((await c.channelBind(0x4001, '127.1.1.1', 5000)).cls, SUCCESS);
  });
});

test('unknown comprehension-required attributes: 401 before authentication, 420 after', async () => {
  const c = await open();
  const odd = [0x0031, Buffer.from('x')];
  const first = await c.request(ALLOCATE, [UDP_TRANSPORT, odd]);
  assert.equal(first.code, 401);
  Object.assign(c, {
    user: 'unknown',
    realm: first.attrs.get(ATTR.REALM).toString(),
    nonce: first.attrs.get(ATTR.NONCE),
  });
  c.key = longTermKey('unknown', c.realm, 'pw-unknown');
  const a = await c.signed(ALLOCATE, [UDP_TRANSPORT, odd]);
  assert.equal(a.code, 420);
  assert.deepEqual([...a.attrs.get(ATTR.UNKNOWN_ATTRIBUTES)], [0x00, 0x31]);
  assert.ok(a.attrs.has(ATTR.MESSAGE_INTEGRITY), 'the 420 is not signed');
});

test('USERHASH (RFC 8489 §14.4): offered in the nonce, accepted instead of USERNAME', async () => {
  const c = await open();
  const first = await c.request(ALLOCATE, [UDP_TRANSPORT]);
  const nonce = first.attrs.get(ATTR.NONCE);
  const realm = first.attrs.get(ATTR.REALM).toString();
  const features = Buffer.from(nonce.subarray(9, 13).toString(), 'base64');
  assert.ok(features[0] & 0x40, 'username anonymity not offered');
  const attrs = (hash) => [UDP_TRANSPORT, [ATTR.USERHASH, hash], [ATTR.REALM, Buffer.from(realm)], [ATTR.NONCE, nonce]];
  const key = longTermKey('hash', realm, 'pw-hash');
  const wrong = crypto.createHash('sha256').update(`nobody:${realm}`).digest();
  assert.equal((await c.request(ALLOCATE, attrs(wrong), { key })).code, 401);
  const hash = crypto.createHash('sha256').update(`hash:${realm}`).digest();
  const a = await c.request(ALLOCATE, attrs(hash), { key });
  assert.equal(a.cls, SUCCESS, `code ${a.code}`);
});

describe('ADDITIONAL-ADDRESS-FAMILY: dual allocations (RFC 8656 §7.2)', () => {
  test('an IPv4 and an IPv6 relay; each relays to its family; one can be released', async () => {
    const c = await open();
    const a = await c.allocate('dual', 'pw-dual', [family(ATTR.ADDITIONAL_ADDRESS_FAMILY, 6)]);
    assert.equal(a.cls, SUCCESS, `code ${a.code}`);
    assert.deepEqual(relays(a).map((r) => r.family), [4, 6], 'want an IPv4 and an IPv6 relay');
    assert.ok(!a.attrs.has(ATTR.ADDRESS_ERROR_CODE));
    const p4 = echo.v4.address().port;
    const p6 = echo.v6.address().port;
    assert.equal((await c.channelBind(0x4002, '::1', p6)).cls, SUCCESS);
    assert.equal((await c.channelBind(0x4003, '127.0.0.1', p4)).cls, SUCCESS);
    for (const ch of [0x4002, 0x4003]) {
      const got = c.nextChannelData(ch);
      c.channelData(ch, Buffer.from(`hello ${ch}`));
      assert.equal((await got).toString(), `hello ${ch}`);
    }
    // lifetime 0 with REQUESTED-ADDRESS-FAMILY releases only that relay
    const r = await c.signed(REFRESH, [lifetime(0), family(ATTR.REQUESTED_ADDRESS_FAMILY, 6)]);
    assert.equal(r.cls, SUCCESS, `code ${r.code}`);
    assert.equal((await c.createPermission('::1', p6)).code, 443);
    const got = c.nextChannelData(0x4003);
    c.channelData(0x4003, Buffer.from('still here'));
    assert.equal((await got).toString(), 'still here');
    assert.equal((await c.signed(REFRESH, [lifetime(0)])).cls, SUCCESS);
  });

  const bad = [
    ['IPv4 as the additional family', [family(ATTR.ADDITIONAL_ADDRESS_FAMILY, 4)]],
    [
      'with REQUESTED-ADDRESS-FAMILY',
      [family(ATTR.ADDITIONAL_ADDRESS_FAMILY, 6), family(ATTR.REQUESTED_ADDRESS_FAMILY, 4)],
    ],
  ];
  for (const [what, extra] of bad) {
    test(`${what}: 400`, async () => {
      assert.equal((await (await open()).allocate('dual', 'pw-dual', extra)).code, 400);
    });
  }
});

describe('TURN over TCP limits', () => {
  test('connections beyond turn.max_connections_per_ip are closed; the others are served', async () => {
    const before = (await metrics(gw)).sample('rtcgate_turn_denied_total', { reason: 'tcp_per_ip' });
    const held = [];
    for (let i = 0; i < 3; i++) {
      const c = await openTcp();
      assert.equal((await c.request(ALLOCATE, [UDP_TRANSPORT])).code, 401);
      held.push(c);
    }
    const extra = await openTcp();
    await withTimeout(extra.closed, 3000, 'the fourth connection to be closed');
    const now = (await metrics(gw)).sample('rtcgate_turn_denied_total', { reason: 'tcp_per_ip' });
    assert.equal(now - before, 1);
    for (const c of held) assert.equal((await c.request(ALLOCATE, [UDP_TRANSPORT])).code, 401);
    held.forEach((c) => c.close());
    await Promise.all(held.map((c) => c.closed));
    // once they are gone the server lets a new one in
    let open = -1;
    for (let i = 0; i < 200 && open !== 0; i++) open = (await metrics(gw)).sample('rtcgate_turn_tcp_connections');
    assert.equal(open, 0, 'the closed connections are still counted');
    const again = await openTcp();
    assert.equal((await again.request(ALLOCATE, [UDP_TRANSPORT])).code, 401);
    again.close();
    await again.closed;
  });

  test('a ChannelData frame too large to relay is skipped; the connection goes on', async () => {
    const c = await openTcp();
    assert.equal((await c.allocate('big', 'pw-big')).cls, SUCCESS);
    const p4 = echo.v4.address().port;
    assert.equal((await c.channelBind(0x4005, '127.0.0.1', p4)).cls, SUCCESS);
    const before = (await metrics(gw)).sample('rtcgate_turn_denied_total', { reason: 'tcp_oversized_frame' });
    echo.v4.largest = 0;
    c.channelData(0x4005, Buffer.alloc(10000, 7));
    const got = c.nextChannelData(0x4005);
    c.channelData(0x4005, Buffer.from('small'));
    assert.equal((await got).toString(), 'small');
    assert.equal(echo.v4.largest, 5, 'the large frame reached the peer');
    const now = (await metrics(gw)).sample('rtcgate_turn_denied_total', { reason: 'tcp_oversized_frame' });
    assert.equal(now - before, 1);
    c.close();
    await c.closed;
  });
});
