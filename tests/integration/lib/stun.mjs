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

/** Build a message: type (e.g. 0x0001 Binding request), attrs [[type, Buffer]], optional FINGERPRINT. */
export function build(type, attrs = [], { fingerprint = false, tid = crypto.randomBytes(12) } = {}) {
  const parts = [];
  for (const [t, v] of attrs) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(t, 0);
    h.writeUInt16BE(v.length, 2);
    parts.push(h, v, Buffer.alloc((4 - (v.length % 4)) % 4));
  }
  let body = Buffer.concat(parts);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(COOKIE, 4);
  tid.copy(header, 8);
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

/** Parse a message: {type, tid, attrs: Map(type → Buffer), fingerprintOk}; throws when malformed. */
export function parse(buf) {
  if (buf.length < 20 || buf.readUInt32BE(4) !== COOKIE) throw new Error('not STUN');
  const len = buf.readUInt16BE(2);
  if (len + 20 !== buf.length) throw new Error(`length ${len} for ${buf.length} bytes`);
  const attrs = new Map();
  let fingerprintOk = null;
  for (let off = 20; off < buf.length; ) {
    const t = buf.readUInt16BE(off);
    const l = buf.readUInt16BE(off + 2);
    if (off + 4 + l > buf.length) throw new Error('attribute overruns the message');
    const v = buf.subarray(off + 4, off + 4 + l);
    if (!attrs.has(t)) attrs.set(t, v);
    if (t === 0x8028) fingerprintOk = ((crc32(buf.subarray(0, off)) ^ 0x5354554e) >>> 0) === v.readUInt32BE(0);
    off += 4 + l + ((4 - (l % 4)) % 4);
  }
  return { type: buf.readUInt16BE(0), tid: buf.subarray(8, 20), attrs, fingerprintOk };
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
