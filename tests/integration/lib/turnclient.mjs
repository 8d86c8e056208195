// A small TURN client over UDP for the negative tests, written from RFC 8656 and RFC 8489;
// independent of rtcgate's C code. It does the 401 dance and signs with MESSAGE-INTEGRITY.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { withTimeout } from './rtcgate.mjs';
import { build, errorCode, longTermKey, parse, xorAddressValue } from './stun.mjs';

export const ALLOCATE = 0x0003;
export const REFRESH = 0x0004;
export const CREATE_PERMISSION = 0x0008;
export const CHANNEL_BIND = 0x0009;
export const SUCCESS = 0x0100;
export const ERROR = 0x0110;

export const ATTR = {
  USERNAME: 0x0006,
  ERROR_CODE: 0x0009,
  CHANNEL_NUMBER: 0x000c,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_ADDRESS_FAMILY: 0x0017,
  REQUESTED_TRANSPORT: 0x0019,
};

const u32 = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
export const UDP_TRANSPORT = [ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0])];
export const lifetime = (s) => [ATTR.LIFETIME, u32(s)];

export class TurnClient {
  /** A client socket toward the gateway's TURN port over IPv4 or IPv6 loopback. */
  static async open(port, family = 4) {
    const c = new TurnClient();
    c.host = family === 6 ? '::1' : '127.0.0.1';
    c.port = port;
    c.sock = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    c.sock.bind(0, c.host);
    await once(c.sock, 'listening');
    return c;
  }

  /** Send and await the answer with the same transaction id; returns the parsed answer. */
  async request(type, attrs = [], opts = {}) {
    const { msg, tid } = build(type, attrs, opts);
    const answer = new Promise((resolve) => {
      const onMsg = (m) => {
        if (m.length >= 20 && m.subarray(8, 20).equals(tid)) {
          this.sock.off('message', onMsg);
          resolve(parse(m));
        }
      };
      this.sock.on('message', onMsg);
    });
    this.sock.send(msg, this.port, this.host);
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
  signed(type, attrs = [], { after = [], nonce = this.nonce } = {}) {
    return this.request(
      type,
      [...attrs, [ATTR.USERNAME, Buffer.from(this.user)], [ATTR.REALM, Buffer.from(this.realm)], [ATTR.NONCE, nonce]],
      { key: this.key, after },
    );
  }

  peer(ip, port) {
    return [ATTR.XOR_PEER_ADDRESS, (tid) => xorAddressValue(ip, port, tid)];
  }

  /** CreatePermission for one peer; XOR addresses need the transaction id, so build it here. */
  async createPermission(ip, port) {
    const tid = Buffer.from(Array.from({ length: 12 }, () => Math.floor(Math.random() * 256)));
    const attrs = [
      [ATTR.XOR_PEER_ADDRESS, xorAddressValue(ip, port, tid)],
      [ATTR.USERNAME, Buffer.from(this.user)],
      [ATTR.REALM, Buffer.from(this.realm)],
      [ATTR.NONCE, this.nonce],
    ];
    return this.request(CREATE_PERMISSION, attrs, { key: this.key, tid });
  }

  close() {
    this.sock.close();
  }
}
