// The softphone page: signs in through /config and JsSIP, then drives calls from the controls.
// Modules: phone.js (SIP), ui.js (DOM), stats.js, ring.js, meter.js, devices.js, errors.js.
import { loadConfig, withPhys } from './config.js';
import { listDevices, openMicrophone, useSpeaker } from './devices.js';
import { callFailureText, microphoneText, registrationFailureText } from './errors.js';
import { LevelMeter } from './meter.js';
import { Phone } from './phone.js';
import { Ringer } from './ring.js';
import { summarize } from './stats.js';
import * as ui from './ui.js';

const { $ } = ui;
const REMEMBER_KEY = 'rtcgate.softphone.user'; /* the user name only, never the password */
const STATS_INTERVAL_MS = 1000;

const state = {
  phone: null,
  audio: null,
  ringer: null,
  meter: null,
  mic: null,
  timer: null,
  statsTimer: 0,
  answered: false,
};

async function boot() {
  const remembered = localStorage.getItem(REMEMBER_KEY);
  if (remembered) {
    $('login-user').value = remembered;
    $('login-remember').checked = true;
  }
  let JsSIP;
  try {
    JsSIP = (await import('../dist/jssip.js')).default;
  } catch {
    ui.showMessage('The SIP library (dist/jssip.js) is missing on this server: build it with ./setup.sh run.');
    $('login-submit').disabled = true;
    return;
  }
  state.phone = new Phone(JsSIP);
  wirePhone(state.phone);
  wireControls();
  window.rtcgatePhone = state.phone; /* for the browser console and the tests */
}

async function signIn(ev) {
  ev.preventDefault();
  const user = $('login-user').value.trim();
  const password = $('login-password').value;
  if ($('login-remember').checked) localStorage.setItem(REMEMBER_KEY, user);
  else localStorage.removeItem(REMEMBER_KEY);
  /* made during the click, so the browser lets it play the ring tone later */
  state.audio ??= new AudioContext();
  state.ringer ??= new Ringer(state.audio);
  window.rtcgateRinger = state.ringer;
  state.meter ??= new LevelMeter(state.audio, (v) => ($('mic-level').value = v));
  ui.showMessage('');
  ui.showRegState('connecting', 'Connecting…');
  $('login-submit').disabled = true;
  try {
    const cfg = await loadConfig(user, password);
    state.phone.start({
      wsUrl: withPhys(cfg.websocketUrl, location.href),
      user,
      password,
      domain: location.hostname,
      iceServers: cfg.iceServers,
    });
  } catch (err) {
    ui.showRegState('offline', 'Signed out');
    ui.showMessage(err.message);
  } finally {
    $('login-submit').disabled = false;
  }
}

function signOut() {
  state.phone.stop();
  endCall();
  ui.showSignedIn(false);
  ui.showRegState('offline', 'Signed out');
}

function wirePhone(phone) {
  let lost = false;
  phone.addEventListener('connection', ({ detail: d }) => {
    if (d.state === 'disconnected' && phone.ua) {
      lost = true;
      ui.showRegState('connecting', 'Reconnecting…');
      ui.showMessage(`Connection to the gateway lost (WebSocket closed${d.code ? `, code ${d.code}` : ''}); reconnecting…`);
    } else if (d.state === 'connected' && lost) {
      lost = false;
      ui.showMessage('Connection restored; registering again…', 'info');
    }
  });
  phone.addEventListener('registration', ({ detail: d }) => {
    if (d.state === 'registered') {
      ui.showRegState('registered', 'Registered');
      ui.showSignedIn(true);
      ui.showMessage('');
      listDevices($('mic-select'), $('speaker-select')).catch(() => {});
    } else if (d.state === 'failed') {
      ui.showRegState('failed', 'Not registered');
      ui.showMessage(registrationFailureText(d.status, d.reason, d.cause));
      if (d.status) {
        /* a SIP refusal will not get better by retrying: back to the sign-in form */
        phone.stop();
        ui.showSignedIn(false);
      }
    } else if (phone.ua && !lost) {
      /* unregistered because the WebSocket went: the badge keeps saying Reconnecting… */
      ui.showRegState('connecting', 'Not registered');
    }
  });
  phone.addEventListener('incoming', ({ detail: d }) => {
    ui.showIncoming(d.from);
    ui.showCallState(`Ringing: ${d.from}`);
    ui.setCallButtons({ inCall: true, answered: false });
    state.ringer?.start();
  });
  phone.addEventListener('call', ({ detail: d }) => onCall(d));
  phone.addEventListener('remotestream', ({ detail: d }) => {
    const el = $('remote-audio');
    el.srcObject = d.stream;
    el.play().catch((e) => ui.showMessage(`The browser would not play the call's audio: ${e.message}`));
  });
}

function onCall(d) {
  switch (d.state) {
    case 'calling':
      ui.showCallState('Calling…');
      ui.setCallButtons({ inCall: true, answered: false });
      break;
    case 'ringing':
      ui.showCallState('Ringing…');
      break;
    case 'answered':
      state.ringer?.stop();
      ui.showIncoming(null);
      ui.showCallState('In call');
      ui.setCallButtons({ inCall: true, answered: true });
      state.answered = true;
      state.timer = new ui.CallTimer($('call-timer'));
      state.timer.start();
      state.statsTimer = setInterval(pollStats, STATS_INTERVAL_MS);
      break;
    case 'held':
    case 'resumed':
      ui.setPressed('hold', d.state === 'held');
      ui.showCallState(d.state === 'held' ? 'On hold' : 'In call');
      break;
    case 'ended':
    case 'failed': {
      const byUs = d.originator === 'local';
      endCall();
      ui.showCallState(d.state === 'ended' ? 'Call ended' : 'No call');
      if (d.state === 'failed' && !byUs) ui.showMessage(callFailureText(d.status, d.reason, d.cause));
      else if (d.state === 'ended' && !byUs) ui.showMessage('The other side hung up.', 'info');
      break;
    }
  }
}

async function pollStats() {
  const pc = state.phone.pc;
  if (!pc) return;
  ui.showStats(summarize(await pc.getStats()));
}

function endCall() {
  state.ringer?.stop();
  state.meter?.detach();
  state.timer?.stop();
  clearInterval(state.statsTimer);
  state.mic?.getTracks().forEach((t) => t.stop());
  state.mic = null;
  state.answered = false;
  ui.showIncoming(null);
  ui.setCallButtons({ inCall: false, answered: false });
}

/* The microphone, opened for a call; null (and a message) when the browser refuses it. */
async function microphone() {
  try {
    state.mic = await openMicrophone($('mic-select').value);
  } catch (err) {
    ui.showMessage(microphoneText(err));
    return null;
  }
  state.meter?.attach(state.mic);
  /* with the microphone allowed, the devices have labels: list them again */
  listDevices($('mic-select'), $('speaker-select')).catch(() => {});
  return state.mic;
}

async function placeCall(ev) {
  ev.preventDefault();
  const target = $('number').value.trim();
  if (!target || state.phone.session) return;
  ui.showMessage('');
  const mic = await microphone();
  if (mic) state.phone.call(target, mic);
}

async function answerCall() {
  state.ringer?.stop();
  const mic = await microphone();
  if (mic) state.phone.answer(mic);
  else state.phone.decline();
}

async function switchMicrophone() {
  const pc = state.phone.pc;
  if (!state.mic || !pc) return;
  const old = state.mic;
  const mic = await microphone();
  if (!mic) return;
  const sender = pc.getSenders().find((s) => s.track?.kind === 'audio');
  await sender?.replaceTrack(mic.getAudioTracks()[0]);
  old.getTracks().forEach((t) => t.stop());
}

function wireControls() {
  $('login').addEventListener('submit', signIn);
  $('logout').addEventListener('click', signOut);
  $('dial').addEventListener('submit', placeCall);
  $('hangup').addEventListener('click', () => state.phone.hangup());
  $('answer').addEventListener('click', answerCall);
  $('decline').addEventListener('click', () => state.phone.decline());
  $('hold').addEventListener('click', () => state.phone.hold($('hold').getAttribute('aria-pressed') !== 'true'));
  $('mute').addEventListener('click', () => {
    const on = $('mute').getAttribute('aria-pressed') !== 'true';
    state.phone.mute(on);
    ui.setPressed('mute', on);
  });
  ui.buildDialpad((key) => {
    if (state.answered) state.phone.dtmf(key);
    else $('number').value += key;
  });
  $('mic-select').addEventListener('change', () => switchMicrophone().catch((e) => ui.showMessage(e.message)));
  $('speaker-select').addEventListener('change', () =>
    useSpeaker($('remote-audio'), $('speaker-select').value).catch((e) => ui.showMessage(`Speaker: ${e.message}`)),
  );
}

boot();
