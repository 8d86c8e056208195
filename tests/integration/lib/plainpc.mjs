// A stand-in for RTCPeerConnection that speaks plain RTP (RTP/AVP, G.711) from a UDP socket,
// so JsSIP's RTCSession runs unchanged in Node; written for the tests, from RFC 3264 and 3550.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { withTimeout } from './rtcgate.mjs';

/** Every connection made, newest last: a test finds its call's media here. */
export const connections = [];

function plainSdp(port, sessionId, version) {
  return [
    'v=0',
    `o=- ${sessionId} ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** The audio address of an SDP: {address, port}, or null. */
export function audioOf(sdp) {
  const c = /^c=IN IP[46] (\S+)/m.exec(sdp);
  const m = /^m=audio (\d+) /m.exec(sdp);
  return c && m ? { address: c[1], port: Number(m[1]) } : null;
}

export class PlainPeerConnection extends EventTarget {
  constructor() {
    super();
    this.socket = dgram.createSocket('udp4');
    this.ready = new Promise((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.iceGatheringState = 'new';
    this.iceConnectionState = 'new';
    this.connectionState = 'new';
    this.signalingState = 'stable';
    this.localDescription = null;
    this.remoteDescription = null;
    this.sessionId = Math.floor(Math.random() * 1e9);
    this.version = 1;
    connections.push(this);
  }

  async createOffer() {
    await this.ready;
    return { type: 'offer', sdp: plainSdp(this.socket.address().port, this.sessionId, this.version++) };
  }

  async createAnswer() {
    await this.ready;
    return { type: 'answer', sdp: plainSdp(this.socket.address().port, this.sessionId, this.version++) };
  }

  async setLocalDescription(desc) {
    this.localDescription = desc;
    this.iceGatheringState = 'complete';
    this.signalingState = desc.type === 'offer' ? 'have-local-offer' : 'stable';
  }

  async setRemoteDescription(desc) {
    this.remoteDescription = desc;
    this.remote = audioOf(desc.sdp);
    this.signalingState = desc.type === 'offer' ? 'have-remote-offer' : 'stable';
    this.iceConnectionState = 'connected';
    this.dispatchEvent(new Event('iceconnectionstatechange'));
  }

  addTrack() {}
  getSenders() {
    return [];
  }
  getReceivers() {
    return [];
  }
  getLocalStreams() {
    return [];
  }
  close() {
    this.iceConnectionState = 'closed';
    this.signalingState = 'closed';
    try {
      this.socket.close();
    } catch {
      /* closed already */
    }
  }

  /**
   * Send count RTP packets (PCMU, 160 bytes of payload, a marker per packet) to the remote
   * address of the answer, 20 ms apart, and collect what comes back: {sent, received, intact}.
   * Sequence numbers start at first (a second round trip in a call goes on from the first's).
   */
  async rtpRoundTrip(count = 50, first = 0) {
    const back = new Map();
    const onMsg = (m) => {
      if (m.length === 172 && m[0] === 0x80) back.set(m.readUInt16BE(2), m);
    };
    this.socket.on('message', onMsg);
    const sent = new Map();
    for (let i = first; i < first + count; i++) {
      const p = Buffer.alloc(172);
      p[0] = 0x80;
      p[1] = 0; // PCMU
      p.writeUInt16BE(i, 2);
      p.writeUInt32BE(i * 160, 4);
      p.writeUInt32BE(0x12345678, 8);
      p.fill(i & 0xff, 12);
      sent.set(i, p);
      this.socket.send(p, this.remote.port, this.remote.address);
      await new Promise((r) => setTimeout(r, 20)); // RTP pacing, not synchronisation
    }
    // the echoes of the last packets are still in flight: wait for them, bounded
    const deadline = Date.now() + 2000;
    while (back.size < count && Date.now() < deadline) {
      await withTimeout(once(this.socket, 'message'), 2000, 'echoed RTP').catch(() => {});
    }
    this.socket.off('message', onMsg);
    let intact = 0;
    for (const [seq, p] of back) if (sent.get(seq)?.equals(p)) intact++;
    return { sent: count, received: back.size, intact };
  }
}

/** A MediaStream stand-in with no tracks (JsSIP adds none to the connection). */
export const noTracks = { getTracks: () => [], getAudioTracks: () => [], getVideoTracks: () => [] };
