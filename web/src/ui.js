// The page's DOM: lookups and the small renderers main.js calls. No SIP, no media here.
import { formatStat } from './stats.js';

export const $ = (id) => document.getElementById(id);

/** Show text in the alert box; kind 'error' (default) or 'info'; empty text hides it. */
export function showMessage(text, kind = 'error') {
  const el = $('message');
  el.textContent = text || '';
  el.dataset.kind = kind;
  el.hidden = !text;
}

/** The registration badge: state is a data attribute the CSS colours, text what it says. */
export function showRegState(state, text) {
  const el = $('reg-state');
  el.dataset.state = state;
  el.textContent = text;
}

export function showSignedIn(on) {
  $('login').hidden = on;
  $('phone').hidden = !on;
}

export function showCallState(text) {
  $('call-state').textContent = text;
}

/** Buttons that only make sense during a call (inCall) or an answered one (answered). */
export function setCallButtons({ inCall, answered }) {
  $('hangup').disabled = !inCall;
  $('call').disabled = inCall;
  $('hold').disabled = !answered;
  $('mute').disabled = !answered;
  if (!answered) {
    setPressed('hold', false);
    setPressed('mute', false);
  }
}

export function setPressed(id, on) {
  const el = $(id);
  el.setAttribute('aria-pressed', String(on));
  if (id === 'hold') el.textContent = on ? 'Resume' : 'Hold';
  if (id === 'mute') el.textContent = on ? 'Unmute' : 'Mute';
}

export function showIncoming(from) {
  $('incoming-text').textContent = from ? `Incoming call from ${from}` : '';
  $('incoming').hidden = !from;
}

/** The dial pad: twelve buttons; onKey(digit) when one is pressed. */
export function buildDialpad(onKey) {
  const pad = $('dialpad');
  for (const key of '123456789*0#') {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = key;
    b.setAttribute('aria-label', key === '*' ? 'star' : key === '#' ? 'pound' : key);
    b.addEventListener('click', () => onKey(key));
    pad.append(b);
  }
}

/** The call timer: start() counts from now, stop() resets; the element shows m:ss or h:mm:ss. */
export class CallTimer {
  constructor(el) {
    this.el = el;
    this.timer = 0;
  }

  start() {
    this.stop();
    const t0 = Date.now();
    const tick = () => (this.el.textContent = clock(Math.floor((Date.now() - t0) / 1000)));
    tick();
    this.timer = setInterval(tick, 1000);
  }

  stop() {
    clearInterval(this.timer);
    this.el.textContent = '0:00';
  }
}

export function clock(s) {
  const two = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** Write a stats summary (stats.js) into the quality list; null clears it. */
export function showStats(summary) {
  for (const dd of document.querySelectorAll('#quality [data-stat]')) {
    dd.textContent = formatStat(dd.dataset.stat, summary ? summary[dd.dataset.stat] : null);
  }
}
