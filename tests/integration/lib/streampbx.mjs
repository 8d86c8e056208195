// A small SIP PBX over TCP or TLS for tests: it frames messages by Content-Length (RFC 3261
// §18.3), answers REGISTER and OPTIONS with 200, pongs CRLF keepalives (RFC 5626 §4.4.1) and
// records what it got; tests can write raw bytes into the live connection.
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';

/** Split the messages out of buf: {messages, rest, pings}. */
function frame(buf) {
  const messages = [];
  let pings = 0;
  for (let guard = 0; guard < 1000; guard++) {
    let skip = 0;
    while (skip < buf.length && (buf[skip] === 0x0d || buf[skip] === 0x0a)) skip++;
    if (skip >= 4) pings++;
    buf = buf.subarray(skip);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = buf.subarray(0, end).toString();
    const len = Number(/^(?:content-length|l)\s*:\s*(\d+)/im.exec(head)?.[1] ?? 0);
    if (buf.length < end + 4 + len) break;
    messages.push(buf.subarray(0, end + 4 + len).toString());
    buf = buf.subarray(end + 4 + len);
  }
  return { messages, rest: buf, pings };
}

/** A 200 OK to request text, with its Via, From, To (tagged), Call-ID, CSeq and Contact. */
function ok(text) {
  const keep = text.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq|Contact):/i.test(l));
  return ['SIP/2.0 200 OK', ...keep.map((l) => (/^To:/i.test(l) ? `${l};tag=pbx1` : l)), 'Content-Length: 0', '', ''].join('\r\n');
}

/**
 * Listen on 127.0.0.1 (port 0: any free one). tlsOptions ({key, cert}) makes it TLS; requests
 * matching unanswered (a RegExp) get no answer.
 * Returns an EventEmitter with port, requests (every request text, in order), responses, pings (CRLF
 * keepalives seen), connections (accepted, closed ones too), write(bytes) into the newest
 * connection, close(), request(re) and response(re) (the next one matching); events 'request' (text), 'response' (text), 'ping', 'connection', 'closed'.
 */
export async function streamPbx({ tlsOptions, port = 0, unanswered = /^$/ } = {}) {
  const pbx = new EventEmitter();
  pbx.requests = [];
  pbx.responses = [];
  pbx.pings = 0;
  pbx.connections = [];
  const onSocket = (sock) => {
    pbx.connections.push(sock);
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      const r = frame(Buffer.concat([buf, d]));
      buf = r.rest;
      for (let i = 0; i < r.pings; i++) {
        pbx.pings++;
        sock.write('\r\n');
        pbx.emit('ping');
      }
      for (const text of r.messages) {
        if (text.startsWith('SIP/2.0')) {
          pbx.responses.push(text);
          pbx.emit('response', text);
          continue;
        }
        pbx.requests.push(text);
        if (/^(REGISTER|OPTIONS) /.test(text) && !unanswered.test(text)) sock.write(ok(text));
        pbx.emit('request', text);
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => pbx.emit('closed', sock));
    pbx.emit('connection', sock);
  };
  const server = tlsOptions ? tls.createServer(tlsOptions, onSocket) : net.createServer(onSocket);
  /* a failed TLS handshake is the client's business here: keep serving */
  server.on('tlsClientError', () => pbx.emit('tlsClientError'));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  pbx.port = server.address().port;
  pbx.newest = () => pbx.connections[pbx.connections.length - 1];
  pbx.write = (bytes) => pbx.newest().write(bytes);
  pbx.close = async () => {
    for (const s of pbx.connections) s.destroy();
    server.close();
    await once(server, 'close');
  };
  /** A function resolving with the next text of list (and event) that matches re; seen ones count. */
  const next = (list, event) => (re) => {
    const seen = list.find((t) => re.test(t));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const on = (t) => {
        if (re.test(t)) {
          pbx.off(event, on);
          resolve(t);
        }
      };
      pbx.on(event, on);
    });
  };
  /** Resolve with the next request whose text matches re (requests already seen count). */
  pbx.request = next(pbx.requests, 'request');
  /** Resolve with the next response whose text matches re (responses already seen count). */
  pbx.response = next(pbx.responses, 'response');
  return pbx;
}
