// The SIP side of the softphone: one JsSIP user agent over rtcgate's /sip WebSocket, at most one
// call at a time. Events (CustomEvent detail) are what the UI shows; nothing here touches the DOM.
//   connection    {state: 'connecting'|'connected'|'disconnected', code, reason}
//   registration  {state: 'registered'|'unregistered'|'failed', status, reason, cause}
//   incoming      {from}                      a call rings; answer() or decline()
//   call          {state, status, reason, cause, originator}
//                 state: 'calling'|'ringing'|'answered'|'held'|'resumed'|'ended'|'failed'
//   remotestream  {stream}                    the far end's audio

/* JsSIP reconnects by itself after a lost WebSocket; these bound its back-off (seconds). */
const RECOVERY_MIN_S = 2;
const RECOVERY_MAX_S = 30;
const SIP_DECLINE = 603;
const SIP_BUSY_HERE = 486;

export class Phone extends EventTarget {
  /** JsSIP: the library object (injected, so this module does not load the bundle itself). */
  constructor(JsSIP) {
    super();
    this.JsSIP = JsSIP;
    this.ua = null;
    this.session = null;
    this.iceServers = [];
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Connect to wsUrl and register user@domain with password. */
  start({ wsUrl, user, password, domain, iceServers }) {
    this.stop();
    this.iceServers = iceServers || [];
    const socket = new this.JsSIP.WebSocketInterface(wsUrl);
    const ua = new this.JsSIP.UA({
      sockets: [socket],
      uri: `sip:${user}@${domain}`,
      password,
      register: true,
      session_timers: false,
      connection_recovery_min_interval: RECOVERY_MIN_S,
      connection_recovery_max_interval: RECOVERY_MAX_S,
      user_agent: 'rtcgate-softphone',
    });
    ua.on('connecting', () => this.emit('connection', { state: 'connecting' }));
    ua.on('connected', () => this.emit('connection', { state: 'connected' }));
    ua.on('disconnected', (e) => this.emit('connection', { state: 'disconnected', code: e.code, reason: e.reason }));
    ua.on('registered', () => this.emit('registration', { state: 'registered' }));
    ua.on('unregistered', () => this.emit('registration', { state: 'unregistered' }));
    ua.on('registrationFailed', (e) =>
      this.emit('registration', {
        state: 'failed',
        status: e.response?.status_code,
        reason: e.response?.reason_phrase,
        cause: e.cause,
      }),
    );
    ua.on('newRTCSession', (e) => this.onSession(e));
    this.ua = ua;
    ua.start();
  }

  /** Unregister and close the WebSocket (ends a call first). */
  stop() {
    if (!this.ua) return;
    this.hangup();
    const ua = this.ua;
    this.ua = null;
    ua.stop();
  }

  onSession({ originator, session, request }) {
    if (this.session) {
      /* one call at a time: a second caller hears busy */
      if (originator === 'remote') session.terminate({ status_code: SIP_BUSY_HERE });
      return;
    }
    this.session = session;
    const callEvent = (state, extra = {}) => this.emit('call', { state, ...extra });
    const finish = (state) => (e) => {
      if (this.session !== session) return;
      this.session = null;
      callEvent(state, {
        originator: e.originator,
        cause: e.cause,
        status: e.originator === 'remote' ? e.message?.status_code : undefined,
        reason: e.originator === 'remote' ? e.message?.reason_phrase : undefined,
      });
    };
    session.on('progress', () => callEvent('ringing'));
    session.on('confirmed', () => callEvent('answered'));
    session.on('hold', () => callEvent('held'));
    session.on('unhold', () => callEvent('resumed'));
    session.on('ended', finish('ended'));
    session.on('failed', finish('failed'));
    session.on('peerconnection', (e) => this.watchTracks(e.peerconnection));
    if (session.connection) this.watchTracks(session.connection);
    if (originator === 'remote') this.emit('incoming', { from: describe(request.from) });
    else callEvent('calling');
  }

  watchTracks(pc) {
    pc.addEventListener('track', (e) => this.emit('remotestream', { stream: e.streams[0] || new MediaStream([e.track]) }));
  }

  /** Call target with the microphone stream already opened by the caller. */
  call(target, stream) {
    if (!this.ua || this.session) return;
    this.ua.call(target, {
      mediaStream: stream,
      pcConfig: { iceServers: this.iceServers },
      rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
    });
  }

  answer(stream) {
    this.session?.answer({ mediaStream: stream, pcConfig: { iceServers: this.iceServers } });
  }

  decline() {
    this.session?.terminate({ status_code: SIP_DECLINE });
  }

  /** Hang up whatever state the call is in (CANCEL, reject or BYE, as JsSIP sees fit). */
  hangup() {
    if (this.session && !this.session.isEnded()) this.session.terminate();
  }

  hold(on) {
    if (!this.session) return;
    if (on) this.session.hold();
    else this.session.unhold();
  }

  mute(on) {
    if (!this.session) return;
    if (on) this.session.mute({ audio: true });
    else this.session.unmute({ audio: true });
  }

  /** Send DTMF tones as RFC 4733 telephone-events in the audio (RTCDTMFSender). */
  dtmf(tones) {
    this.session?.sendDTMF(tones, { transportType: this.JsSIP.C.DTMF_TRANSPORT.RFC2833 });
  }

  /** The call's RTCPeerConnection, or null. */
  get pc() {
    return this.session?.connection || null;
  }
}

/* "Alice <sip:201@pbx>" → "Alice (201)" */
function describe(nameAddr) {
  if (!nameAddr) return 'unknown caller';
  const user = nameAddr.uri?.user || String(nameAddr.uri || '');
  return nameAddr.display_name ? `${nameAddr.display_name} (${user})` : user;
}
