// A small TURN client over UDP or TCP for the negative tests, written from RFC 8656 and RFC 8489;
// independent of rtcgate's C code. It does the 401 dance and signs with MESSAGE-INTEGRITY.
import dgram from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import crypto from 'node:crypto';
import net from 'node:net';
import { withTimeout } from './rtcgate.mjs';
import { build, errorCode, longTermKey, parse, xorAddressValue } from './stun.mjs';

export const ALLOCATE = 0x0003;
export const REFRESH = 0x0004;
export const SEND_INDICATION = 0x0016;
export const DATA_INDICATION = 0x0017;
export const CREATE_PERMISSION = 0x0008;
export const CHANNEL_BIND = 0x0009;
export const SUCCESS = 0x0100;
export const ERROR = 0x0110;

export const ATTR = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  CHANNEL_NUMBER: 0x000c,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  DATA: 0x0013,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_ADDRESS_FAMILY: 0x0017,
  EVEN_PORT: 0x0018,
  REQUESTED_TRANSPORT: 0x0019,
  USERHASH: 0x001e,
  RESERVATION_TOKEN: 0x0022,
  ADDITIONAL_ADDRESS_FAMILY: 0x8000,
  ADDRESS_ERROR_CODE: 0x8001,
};

const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
export const UDP_TRANSPORT = [ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0])];
export const lifetime = (s) => [ATTR.LIFETIME, u32(s)];
export const family = (type, f) => [type, Buffer.from([f === 6 ? 2 : 1, 0, 0, 0])];

/** Split a TCP byte stream into STUN messages and ChannelData frames (padded, RFC 8656 §12.5). */
function frames(state, chunk, emit) {
  state.buf = Buffer.concat([state.buf, chunk]);
  for (;;) {
    if (state.buf.length < 4) return;
    const channel = state.buf[0] >= 0x40 && state.buf[0] <= 0x7f;
    const len = state.buf.readUInt16BE(2);
    const total = channel ? (4 + len + 3) & ~3 : 20 + len;
    if (state.buf.length < total) return;
    emit(state.buf.subarray(0, total));
    state.buf = state.buf.subarray(total);
  }
}

export class TurnClient extends EventEmitter {
  /**
   * A client socket toward the gateway's TURN port over IPv4 or IPv6 loopback. Over IPv4 each
   * client speaks from an address of its own in 127/8: turnutils_uclient exits without freeing
   * its allocations (they live 600 s), and a client that took one of its old ports on 127.0.0.1
   * would meet that allocation's 5-tuple and get 437 Allocation Mismatch, as RFC 8656 §7.2 says.
   */
  static async open(port, family = 4) {
    const c = new TurnClient();
    c.host = family === 6 ? '::1' : '127.0.0.1';
    c.port = port;
    c.sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    c.sock.on('message', (m) => c.emit('message', m));
    const [b, d, e] = crypto.randomBytes(3);
    c.sock.bind(0, family === 6 ? '::1' : `127.${1 + (b % 254)}.${d}.${1 + (e % 254)}`);
    await once(c.sock, 'listening');
    c.transmit = (buf) => c.sock.send(buf, c.port, c.host);
    return c;
  }

  /** The same over a TCP connection (RFC 8656 §3.1): the connection is the 5-tuple. */
  static async openTcp(port) {
    const c = new TurnClient();
    c.tcp = net.connect(port, '127.0.0.1');
    await once(c.tcp, 'connect');
    const state = { buf: Buffer.alloc(0) };
    c.tcp.on('data', (d) => frames(state, d, (m) => c.emit('message', m)));
    c.tcp.on('error', () => {});
    c.closed = once(c.tcp, 'close');
    c.transmit = (buf) => c.tcp.write(buf);
    return c;
  }

  /** Send and await the answer with the same transaction id; returns the parsed answer. */
  async request(type, attrs = [], opts = {}) {
    const tid = opts.tid ?? crypto.randomBytes(12);
    const resolved = attrs.map(([t, v]) => [t, typeof v === 'function' ? v(tid) : v]);
    const { msg } = build(type, resolved, { ...opts, tid });
    const answer = new Promise((resolve) => {
      const onMsg = (m) => {
        if (m.length >= 20 && m.subarray(8, 20).equals(tid)) {
          this.off('message', onMsg);
          resolve(parse(m));
        }
      };
      this.on('message', onMsg);
    });
    this.transmit(msg);
    const a = await withTimeout(answer, 3000, `answer to request 0x${type.toString(16)}`);
    a.method = a.type & 0x3eef;
    a.cls = a.type & 0x0110;
    a.code = a.attrs.has(ATTR.ERROR_CODE) ? errorCode(a.attrs.get(ATTR.ERROR_CODE)) : 0;
    return a;
  }

  /** Allocate with long-term credentials: the unauthenticated try, then the signed one. */
  async allocate(user, password, extra = []) {
    const first = await this.request(ALLOCATE, [UDP_TRANSPORT, ...extra]);
    this.challenge = first;
    if (first.code !== 401) return first;
    this.user = user;
    this.realm = first.attrs.get(ATTR.REALM).toString();
    this.nonce = first.attrs.get(ATTR.NONCE);
    this.key = longTermKey(user, this.realm, password);
    return this.signed(ALLOCATE, [UDP_TRANSPORT, ...extra]);
  }

  /** A request with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY; `after` goes after the MAC. */
  signed(type, attrs = [], { after = [], nonce = this.nonce, tid } = {}) {
    return this.request(
      type,
      [...attrs, [ATTR.USERNAME, Buffer.from(this.user)], [ATTR.REALM, Buffer.from(this.realm)], [ATTR.NONCE, nonce]],
      { key: this.key, after, tid },
    );
  }

  /** An XOR-PEER-ADDRESS attribute; its value depends on the transaction id. */
  peer(ip, port) {
    return [ATTR.XOR_PEER_ADDRESS, (tid) => xorAddressValue(ip, port, tid)];
  }

  /** CreatePermission for one peer or several ([ip, port] pairs). */
  createPermission(ip, port) {
    const peers = Array.isArray(ip) ? ip : [[ip, port]];
    return this.signed(
      CREATE_PERMISSION,
      peers.map(([i, p]) => this.peer(i, p)),
    );
  }

  channelBind(number, ip, port) {
    const n = Buffer.alloc(4);
    n.writeUInt16BE(number);
    return this.signed(CHANNEL_BIND, [[ATTR.CHANNEL_NUMBER, n], this.peer(ip, port)]);
  }

  /** ChannelData toward the bound peer; padded to 4 bytes over TCP. */
  channelData(number, data) {
    const pad = this.tcp ? (4 - (data.length % 4)) % 4 : 0;
    const head = Buffer.alloc(4);
    head.writeUInt16BE(number, 0);
    head.writeUInt16BE(data.length, 2);
    this.transmit(Buffer.concat([head, data, Buffer.alloc(pad)]));
  }

  /** Resolves with the payload of the next ChannelData frame on number. */
  nextChannelData(number, ms = 3000) {
    const got = new Promise((resolve) => {
      const onMsg = (m) => {
        if (m.length >= 4 && m.readUInt16BE(0) === number) {
          this.off('message', onMsg);
          resolve(m.subarray(4, 4 + m.readUInt16BE(2)));
        }
      };
      this.on('message', onMsg);
    });
    return withTimeout(got, ms, `ChannelData on 0x${number.toString(16)}`);
  }

  close() {
    if (this.tcp) this.tcp.destroy();
    else this.sock.close();
  }
}
