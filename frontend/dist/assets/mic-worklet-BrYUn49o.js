// The microphone's AudioWorklet: takes the input at the context's rate (16 kHz, set by the page)
// and posts 20 ms frames of 16-bit PCM, with their level for the page's meter.
class MicFrames extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buf = new Int16Array(320);
    this.n = 0;
    this.sum = 0;
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) {
      for (let i = 0; i < ch.length; i++) {
        const v = Math.max(-1, Math.min(1, ch[i]));
        this.buf[this.n++] = v < 0 ? v * 0x8000 : v * 0x7fff;
        this.sum += v * v;
        if (this.n === this.buf.length) {
          this.port.postMessage({ pcm: this.buf.buffer, rms: Math.sqrt(this.sum / this.n) }, [this.buf.buffer]);
          this.buf = new Int16Array(320);
          this.n = 0;
          this.sum = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("mic-frames", MicFrames);
