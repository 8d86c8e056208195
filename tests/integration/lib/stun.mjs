// A minimal STUN message builder and parser for the tests, written from RFC 8489 §5, §14;
// independent of rtcgate's C codec on purpose.
import crypto from 'node:crypto';

export const COOKIE = 0x2112a442;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function tlv(t, v) {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(t, 0);
  h.writeUInt16BE(v.length, 2);
  return Buffer.concat([h, v, Buffer.alloc((4 - (v.length % 4)) % 4)]);
}

/**
 * Build a message: type (e.g. 0x0001 Binding request), attrs [[type, Buffer]], then
 * MESSAGE-INTEGRITY with key (RFC 8489 §14.5), then attrs after it (`after`), then FINGERPRINT.
 */
export function build(
  type,
  attrs = [],
  { fingerprint = false, tid = crypto.randomBytes(12), key = null, key256 = null, after = [] } = {},
) {
  let body = Buffer.concat(attrs.map(([t, v]) => tlv(t, v)));
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(COOKIE, 4);
  tid.copy(header, 8);
  if (key) {
    header.writeUInt16BE(body.length + 24, 2);
    const mac = crypto.createHmac('sha1', key).update(Buffer.concat([header, body])).digest();
    body = Buffer.concat([body, tlv(0x0008, mac)]);
  }
  if (key256) {
    header.writeUInt16BE(body.length + 36, 2);
    const mac = crypto.createHmac('sha256', key256).update(Buffer.concat([header, body])).digest();
    body = Buffer.concat([body, tlv(0x001c, mac)]);
  }
  body = Buffer.concat([body, ...after.map(([t, v]) => tlv(t, v))]);
  if (fingerprint) {
    header.writeUInt16BE(body.length + 8, 2);
    const fp = Buffer.alloc(8);
    fp.writeUInt16BE(0x8028, 0);
    fp.writeUInt16BE(4, 2);
    fp.writeUInt32BE((crc32(Buffer.concat([header, body])) ^ 0x5354554e) >>> 0, 4);
    body = Buffer.concat([body, fp]);
  }
  header.writeUInt16BE(body.length, 2);
  return { msg: Buffer.concat([header, body]), tid };
}

/**
 * Parse a message: {type, tid, attrs: Map(type → first Buffer), list: [[type, Buffer]] in order,
 * fingerprintOk}; throws when malformed.
 */
export function parse(buf) {
  if (buf.length < 20 || buf.readUInt32BE(4) !== COOKIE) throw new Error('not STUN');
  const len = buf.readUInt16BE(2);
  if (len + 20 !== buf.length) throw new Error(`length ${len} for ${buf.length} bytes`);
  const attrs = new Map();
  const list = [];
  let fingerprintOk = null;
  for (let off = 20; off < buf.length; ) {
    const t = buf.readUInt16BE(off);
    const l = buf.readUInt16BE(off + 2);
    if (off + 4 + l > buf.length) throw new Error('attribute overruns the message');
    const v = buf.subarray(off + 4, off + 4 + l);
    if (!attrs.has(t)) attrs.set(t, v);
    list.push([t, v]);
    if (t === 0x8028) fingerprintOk = ((crc32(buf.subarray(0, off)) ^ 0x5354554e) >>> 0) === v.readUInt32BE(0);
    off += 4 + l + ((4 - (l % 4)) % 4);
  }
  return { type: buf.readUInt16BE(0), tid: buf.subarray(8, 20), attrs, list, fingerprintOk };
}

/** XOR-MAPPED-ADDRESS value → {family, address, port}. */
export function xorAddress(value, tid) {
  const port = value.readUInt16BE(2) ^ (COOKIE >>> 16);
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), tid]);
  if (value[1] === 1) {
    const ip = [...value.subarray(4, 8)].map((b, i) => b ^ mask[i]);
    return { family: 4, address: ip.join('.'), port };
  }
  const ip = Buffer.from([...value.subarray(4, 20)].map((b, i) => b ^ mask[i]));
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(ip.readUInt16BE(i).toString(16));
  return { family: 6, address: groups.join(':'), port };
}

/** ERROR-CODE value → number. */
export function errorCode(value) {
  return (value[2] & 7) * 100 + value[3];
}

/** XOR-*-ADDRESS value for ip (IPv4 dotted or IPv6 text) and port, under tid. */
export function xorAddressValue(ip, port, tid) {
  const v6 = ip.includes(':');
  const addr = v6 ? ipv6Bytes(ip) : Buffer.from(ip.split('.').map(Number));
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), tid]);
  const out = Buffer.alloc(4 + addr.length);
  out[1] = v6 ? 2 : 1;
  out.writeUInt16BE(port ^ (COOKIE >>> 16), 2);
  for (let i = 0; i < addr.length; i++) out[4 + i] = addr[i] ^ mask[i];
  return out;
}

function ipv6Bytes(ip) {
  let [head, tail] = ip.split('::');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  let words = [];
  const parse = (s) => (s ? s.split(':') : []);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    const hex = [((b[0] << 8) | b[1]).toString(16), ((b[2] << 8) | b[3]).toString(16)];
    if (tail !== undefined) tail = tail.replace(v4[1], hex.join(':'));
    else head = head.replace(v4[1], hex.join(':'));
  }
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  words = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), 2 * i));
  return out;
}

/** Long-term credential key: MD5(user:realm:password), RFC 8489 §9.2.2. */
export function longTermKey(user, realm, password) {
  return crypto.createHash('md5').update(`${user}:${realm}:${password}`).digest();
}

/** Long-term key with PASSWORD-ALGORITHM SHA-256: SHA-256(user:realm:password). */
export function longTermKeySha256(user, realm, password) {
  return crypto.createHash('sha256').update(`${user}:${realm}:${password}`).digest();
}

/** TURN REST password: base64(HMAC-SHA1(secret, username)). */
export function restPassword(secret, username) {
  return crypto.createHmac('sha1', secret).update(username).digest('base64');
}
