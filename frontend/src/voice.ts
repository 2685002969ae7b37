// Talking to the bot: the microphone button opens a voice stream (WebSocket /v1/voice/stream).
// The page sends 20 ms frames of 16 kHz PCM from an AudioWorklet; the server's VAD finds where
// the visitor starts and stops, sends the live transcript, the reply and its audio, which the
// page plays as it arrives. Speaking or tapping during the reply stops it (barge-in). The mic
// stays open (hands-free) until the button is tapped again.
import workletURL from "./mic-worklet.js?url&no-inline"; // a file of its own: the page's CSP allows no data: scripts

export interface VoiceUI {
  key(): string | null;

  lang(): string;
  session(): string;
  setSession(id: string): void;
  visitorLine(text: string, final: boolean): void;
  // offer is, on a repair (a question not heard well enough), the reading to confirm with a tap.
  botLine(text: string, lang: string, offer?: string): void;
  status(s: "off" | "listening" | "hearing" | "thinking" | "speaking", level?: number): void;
  error(msg: string): void;
}

interface Link {
  send(pcm: ArrayBuffer): void;
  control(ev: object): void;
  close(): void;
}

// bridge is the desktop window's API, when the page runs in it.
function bridge(): { api: any; runtime: any } | undefined {
  const w = window as any;
  return w.go?.app?.Window && w.runtime ? { api: w.go.app.Window, runtime: w.runtime } : undefined;
}

export class Voice {
  private link?: Link;
  private mic?: MediaStream;
  private ctx?: AudioContext;
  private out?: AudioContext;
  private node?: AudioWorkletNode;
  private playAt = 0;
  private playing: AudioBufferSourceNode[] = [];
  private rate = 22050;
  private speaking = false;

  constructor(private ui: VoiceUI) {}

  get on(): boolean {
    return !!this.link;
  }

  // toggle opens the microphone, or (while the bot speaks) stops the reply, or closes it.
  async toggle() {
    if (this.link && this.speaking) {
      this.link.control({ type: "stop" });
      this.stopPlayback();
      return;
    }
    if (this.link) return this.close();
    try {
      await this.open();
    } catch (e) {
      this.close();
      this.ui.error("Voice could not start: " + (e as Error).message);
    }
  }

  private async open() {
    this.out = new AudioContext(); // made in the tap, so the browser lets it play
    try {
      this.mic = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (e) {
      this.ui.error("The microphone is not available: " + (e as Error).message);
      return;
    }
    this.ctx = new AudioContext({ sampleRate: 16000 });
    await this.ctx.audioWorklet.addModule(workletURL);
    const src = this.ctx.createMediaStreamSource(this.mic);
    this.node = new AudioWorkletNode(this.ctx, "mic-frames");
    src.connect(this.node);
    const link = bridge() ? await this.windowLink() : this.socketLink();
    if (!link) return;
    this.link = link;
    this.node.port.onmessage = (e) => {
      link.send(e.data.pcm);
      if (!this.speaking) this.ui.status("listening", e.data.rms);
    };
    this.ui.status("listening");
  }

  private event(ev: any) {
    switch (ev.type) {
      case "speech_start":
        this.ui.status("hearing");
        this.ui.visitorLine("…", false);
        break;
      case "partial":
        this.ui.visitorLine(ev.text, false);
        break;
      case "final":
        if (ev.text) this.ui.visitorLine(ev.text, true);
        this.ui.status("thinking");
        break;
      case "reply":
        this.ui.setSession(ev.session_id);
        this.ui.botLine(ev.reply.text, ev.reply.lang, ev.reply.kind === "repair" ? ev.reply.offer : undefined);
        break;
      case "audio_start":
        this.rate = ev.sample_rate;
        this.speaking = true;
        this.ui.status("speaking");
        break;
      case "audio_end":
        break;
      case "barge_in":
        document.body.dataset.bargeIns = String(Number(document.body.dataset.bargeIns ?? 0) + 1);
        this.stopPlayback();
        break;
      case "error":
        if (ev.code !== "no_speech") this.ui.error(ev.message);
        this.ui.status("listening");
        break;
    }
  }

  private audio(buf: ArrayBuffer) {
    if (!this.out) return;
    const pcm = new Int16Array(buf);
    const ab = this.out.createBuffer(1, pcm.length, this.rate);
    const ch = ab.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 0x8000;
    const src = this.out.createBufferSource();
    src.buffer = ab;
    src.connect(this.out.destination);
    this.playAt = Math.max(this.playAt, this.out.currentTime + 0.02);
    src.start(this.playAt);
    this.playAt += ab.duration;
    this.playing.push(src);
    document.body.dataset.audioChunks = String(Number(document.body.dataset.audioChunks ?? 0) + 1);
    src.onended = () => {
      this.playing = this.playing.filter((s) => s !== src);
      if (this.playing.length === 0 && this.speaking) {
        this.speaking = false;
        this.ui.status("listening");
      }
    };
  }

  private stopPlayback() {
    for (const s of this.playing) s.stop();
    this.playing = [];
    this.playAt = 0;
    this.speaking = false;
    this.ui.status("listening");
  }

  // socketLink is the WebSocket of /v1/voice/stream (a browser on the LAN).
  private socketLink(): Link {
    const q = new URLSearchParams({ lang: this.ui.lang() });
    if (this.ui.session()) q.set("session_id", this.ui.session());
    const protocols = ["voicebot.v1"];
    const key = this.ui.key();
    if (key) protocols.push("bearer." + key);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/v1/voice/stream?${q}`, protocols);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => (typeof e.data === "string" ? this.event(JSON.parse(e.data)) : this.audio(e.data));
    ws.onclose = () => this.close();
    ws.onerror = () => this.ui.error("The voice connection failed.");
    return {
      send: (pcm) => ws.readyState === WebSocket.OPEN && ws.send(pcm),
      control: (ev) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(ev)),
      close: () => ws.close(),
    };
  }

  // windowLink is the desktop window's bridge to the same voice session (its page cannot open
  // a WebSocket to the listener from the wails:// origin).
  private async windowLink(): Promise<Link | undefined> {
    const w = bridge()!;
    const err = await w.api.VoiceOpen(this.ui.lang(), this.ui.session());
    if (err) {
      this.ui.error("Voice could not start: " + err);
      return undefined;
    }
    const off = w.runtime.EventsOn("voice", (m: { event?: string; audio?: string }) => {
      if (m.event) {
        const ev = JSON.parse(m.event);
        if (ev.type === "closed") return this.close();
        this.event(ev);
      } else if (m.audio) {
        const bin = atob(m.audio);
        const b = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
        this.audio(b.buffer);
      }
    });
    return {
      send: (pcm) => {
        const b = new Uint8Array(pcm);
        let s = "";
        for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
        w.api.VoiceSend(btoa(s), "");
      },
      control: (ev) => w.api.VoiceSend("", JSON.stringify(ev)),
      close: () => {
        off();
        w.api.VoiceClose();
      },
    };
  }

  close() {
    this.stopPlayback();
    const link = this.link;
    this.link = undefined;
    link?.close();
    this.node?.disconnect();
    this.mic?.getTracks().forEach((t) => t.stop());
    this.ctx?.close();
    this.out?.close();
    this.ctx = this.out = undefined;
    this.mic = undefined;
    this.ui.status("off");
  }
}
