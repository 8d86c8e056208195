// The microphone level meter: RMS of the local stream through an AnalyserNode, once per frame.

export class LevelMeter {
  /** ctx: an AudioContext; onLevel(level 0..1) is called about every animation frame. */
  constructor(ctx, onLevel) {
    this.ctx = ctx;
    this.onLevel = onLevel;
    this.source = null;
    this.frame = 0;
  }

  /** Measure stream (a MediaStream with an audio track); replaces what was measured before. */
  attach(stream) {
    this.detach();
    if (!this.ctx || !stream?.getAudioTracks().length) return;
    this.ctx.resume?.();
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = 1024;
    const buf = new Float32Array(analyser.fftSize);
    this.source = this.ctx.createMediaStreamSource(stream);
    this.source.connect(analyser);
    const tick = () => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (let i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
      /* RMS of full-scale speech is ~0.1-0.3: scale so speech fills most of the meter */
      this.onLevel(Math.min(1, Math.sqrt(sum / buf.length) * 3));
      this.frame = requestAnimationFrame(tick);
    };
    tick();
  }

  detach() {
    cancelAnimationFrame(this.frame);
    this.source?.disconnect();
    this.source = null;
    this.onLevel(0);
  }
}
