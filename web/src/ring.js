// The ring tone of an incoming call, made with WebAudio: 425 Hz + 480 Hz, 1 s on, 3 s off,
// until stopped. No audio file to load.

const ON_S = 1;
const PERIOD_S = 4;
const CYCLES = 15; /* one minute of ringing at most (rtcgate's timer C ends a call at 60 s) */
const LEVEL = 0.12;

export class Ringer {
  /** ctx: an AudioContext, made while handling a user gesture so the browser lets it play. */
  constructor(ctx) {
    this.ctx = ctx;
    this.nodes = null;
  }

  get ringing() {
    return this.nodes !== null;
  }

  start() {
    if (this.nodes || !this.ctx) return;
    const { ctx } = this;
    ctx.resume?.();
    const gain = ctx.createGain();
    gain.gain.value = 0;
    const t0 = ctx.currentTime + 0.05;
    for (let i = 0; i < CYCLES; i++) {
      const t = t0 + i * PERIOD_S;
      gain.gain.setValueAtTime(LEVEL, t);
      gain.gain.setValueAtTime(0, t + ON_S);
    }
    const oscs = [425, 480].map((f) => {
      const o = ctx.createOscillator();
      o.frequency.value = f;
      o.connect(gain);
      o.start(t0);
      o.stop(t0 + CYCLES * PERIOD_S);
      return o;
    });
    gain.connect(ctx.destination);
    this.nodes = { gain, oscs };
  }

  stop() {
    if (!this.nodes) return;
    for (const o of this.nodes.oscs) {
      o.stop();
      o.disconnect();
    }
    this.nodes.gain.disconnect();
    this.nodes = null;
  }
}
