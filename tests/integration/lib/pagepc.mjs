// A stand-in for RTCPeerConnection that lets JsSIP (in Node) drive a real one in a Chromium page:
// JsSIP does the SIP over WebSocket, the page does ICE, DTLS-SRTP and audio (a tone in place of
// microphone's beep). Written for the tests.
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
  '--autoplay-policy=no-user-gesture-required',
];

/* Runs in the page: peer connections by id, each with the fake microphone's track. */
function install() {
  const pcs = new Map();
  window.rtcgateTest = {
    async create(id, config) {
      const pc = new RTCPeerConnection(config);
      // the fake microphone is near silence in headless Chromium: a 440 Hz tone takes its place
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      const tone = ctx.createMediaStreamDestination();
      osc.connect(tone);
      osc.start();
      pc.addTrack(mic.getAudioTracks()[0], mic);
      await pc.getSenders()[0].replaceTrack(tone.stream.getAudioTracks()[0]);
      // what comes back is played (Chromium decodes only what plays) and measured
      pc.ontrack = (e) => {
        const stream = new MediaStream([e.track]);
        const el = new Audio();
        el.srcObject = stream;
        el.play().catch(() => {});
        const analyser = ctx.createAnalyser();
        ctx.createMediaStreamSource(stream).connect(analyser);
        pc.peak = 0;
        const buf = new Float32Array(analyser.fftSize);
        pc.meter = setInterval(() => {
          analyser.getFloatTimeDomainData(buf);
          for (const v of buf) pc.peak = Math.max(pc.peak, Math.abs(v));
        }, 50);
      };
      pcs.set(id, pc);
    },
    async describe(id, kind) {
      const pc = pcs.get(id);
      return (await (kind === 'offer' ? pc.createOffer() : pc.createAnswer())).sdp;
    },
    /* set our description and wait (bounded) for ICE gathering to complete */
    async setLocal(id, desc) {
      const pc = pcs.get(id);
      await pc.setLocalDescription(desc);
      for (let i = 0; i < 100 && pc.iceGatheringState !== 'complete'; i++) await new Promise((r) => setTimeout(r, 50));
      return pc.localDescription.sdp;
    },
    /* an offer as a trickling browser sends it: taken before gathering completes, candidates
       kept aside as onicecandidate gives them (null: end of candidates) */
    async trickleOffer(id) {
      const pc = pcs.get(id);
      pc.trickled = [];
      pc.onicecandidate = (e) => pc.trickled.push(e.candidate ? e.candidate.candidate : null);
      await pc.setLocalDescription(await pc.createOffer());
      return pc.localDescription.sdp;
    },
    trickled(id) {
      return pcs.get(id).trickled;
    },
    async setRemote(id, desc) {
      await pcs.get(id).setRemoteDescription(desc);
    },
    restartIce(id) {
      pcs.get(id).restartIce();
    },
    /* RFC 4733 events through the page's RTCDTMFSender; resolves with the first tone played */
    dtmf(id, tones, duration, gap) {
      const { dtmf } = pcs.get(id).getSenders()[0];
      const played = new Promise((resolve) =>
        dtmf.addEventListener('tonechange', (e) => e.tone && resolve(e.tone), { once: true }),
      );
      dtmf.insertDTMF(tones, duration, gap);
      return played;
    },
    async stats(id) {
      const pc = pcs.get(id);
      const all = [...(await pc.getStats()).values()];
      const inbound = all.find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
      const transport = all.find((s) => s.type === 'transport');
      const pair = transport && all.find((s) => s.id === transport.selectedCandidatePairId);
      const local = pair && all.find((s) => s.id === pair.localCandidateId);
      return {
        connectionState: pc.connectionState,
        packetsReceived: inbound?.packetsReceived ?? 0,
        audioEnergy: inbound?.totalAudioEnergy ?? 0,
        peak: pc.peak ?? 0, // the loudest sample heard back so far
        dtlsState: transport?.dtlsState,
        srtpCipher: transport?.srtpCipher,
        localType: local?.candidateType,
        localProtocol: local?.relayProtocol,
        packetsSent: all.find((s) => s.type === 'outbound-rtp' && s.kind === 'audio')?.packetsSent ?? 0,
        direction: pc.getTransceivers()[0]?.currentDirection,
        ufrag: /^a=ice-ufrag:(.*)$/m.exec(pc.localDescription?.sdp ?? '')?.[1],
        iceState: pc.iceConnectionState,
        // answers to the checks Chromium keeps sending on the selected pair (RFC 7675 consent)
        pairResponses: pair?.responsesReceived ?? 0,
      };
    },
    close(id) {
      clearInterval(pcs.get(id)?.meter);
      pcs.get(id)?.close();
      pcs.delete(id);
    },
  };
}

/** Open a page on gw's origin (a secure context: 127.0.0.1) ready to make connections. */
export async function openPage(browser, gw) {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${gw.httpPort}/healthz`);
  await page.evaluate(install);
  return page;
}

let nextId = 1;

export class PagePeerConnection extends EventTarget {
  /** The page new connections live in, and an optional rewrite of what JsSIP sends. */
  static page = null;
  static sdpFilter = null;
  static last = null;

  constructor(config = {}) {
    super();
    this.id = String(nextId++);
    this.page = PagePeerConnection.page;
    this.filter = PagePeerConnection.sdpFilter;
    this.iceGatheringState = 'new';
    this.iceConnectionState = 'new';
    this.signalingState = 'stable';
    this.local = null;
    this.remoteDescription = null;
    const { iceServers = [], iceTransportPolicy = 'all' } = config;
    this.ready = this.page.evaluate(([id, c]) => window.rtcgateTest.create(id, c), [
      this.id,
      { iceServers, iceTransportPolicy },
    ]);
    PagePeerConnection.last = this;
  }

  get localDescription() {
    return this.local && { type: this.local.type, sdp: this.filter ? this.filter(this.local.sdp) : this.local.sdp };
  }

  async #describe(kind) {
    await this.ready;
    return { type: kind, sdp: await this.page.evaluate(([id, k]) => window.rtcgateTest.describe(id, k), [this.id, kind]) };
  }

  createOffer() {
    return this.#describe('offer');
  }

  createAnswer() {
    return this.#describe('answer');
  }

  async setLocalDescription(desc) {
    await this.ready;
    const d = { type: desc.type, sdp: desc.sdp };
    const sdp = await this.page.evaluate(([id, x]) => window.rtcgateTest.setLocal(id, x), [this.id, d]);
    this.local = { type: desc.type, sdp };
    this.iceGatheringState = 'complete';
    this.signalingState = desc.type === 'offer' ? 'have-local-offer' : 'stable';
  }

  async setRemoteDescription(desc) {
    await this.ready;
    const d = { type: desc.type, sdp: desc.sdp };
    await this.page.evaluate(([id, x]) => window.rtcgateTest.setRemote(id, x), [this.id, d]);
    this.remoteDescription = d;
    this.signalingState = desc.type === 'offer' ? 'have-remote-offer' : 'stable';
  }

  stats() {
    return this.page.evaluate((id) => window.rtcgateTest.stats(id), this.id);
  }

  /** Poll getStats() (bounded, ~10 s) until more than `packets` audio packets came in. */
  async mediaFlowing(packets = 50) {
    let s;
    for (let i = 0; i < 100; i++) {
      s = await this.stats();
      if (s.packetsReceived > packets && s.peak > 0.05) return s;
      await new Promise((r) => setTimeout(r, 100)); // polling interval, bounded by the loop
    }
    return s;
  }

  /**
   * Poll getStats() (bounded, ~15 s) until `more` further answers to Chromium's checks on the
   * selected pair came back after `from` (the consent checks of a call in progress).
   */
  async checksAnswered(from, more = 2) {
    let s;
    for (let i = 0; i < 150; i++) {
      s = await this.stats();
      if (s.pairResponses >= from + more) return s;
      await new Promise((r) => setTimeout(r, 100)); // polling interval, bounded by the loop
    }
    return s;
  }

  /** The next offer restarts ICE (new ufrag and pwd, RFC 8445 §9). */
  restartIce() {
    return this.page.evaluate((id) => window.rtcgateTest.restartIce(id), this.id);
  }

  addTrack() {}
  /* one audio sender whose dtmf (JsSIP's sendDTMF with RFC2833) plays in the page */
  getSenders() {
    const pc = this;
    const dtmf = {
      toneBuffer: '',
      insertDTMF(tones, duration = 100, gap = 70) {
        pc.lastTone = pc.page.evaluate(([id, t, d, g]) => window.rtcgateTest.dtmf(id, t, d, g), [pc.id, tones, duration, gap]);
      },
    };
    return [{ track: { kind: 'audio', enabled: true }, dtmf }];
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
    this.page.evaluate((id) => window.rtcgateTest.close(id), this.id).catch(() => {});
  }
}

/** With JsSIP in Node: connections made from here on are real ones in page. */
export function usePage(page) {
  PagePeerConnection.page = page;
  globalThis.RTCPeerConnection = PagePeerConnection;
}

/** Wait until pc's page connection reports state (bounded). */
export async function connectionState(pc, state, ms = 10_000) {
  const deadline = Date.now() + ms;
  let s;
  while (Date.now() < deadline) {
    s = await pc.stats();
    if (s.connectionState === state) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`connection state ${s?.connectionState}, wanted ${state}`);
}
