// The visitor screen: a conversation with the bot over the LAN API. The screen's key is entered
// once (or scanned from the dashboard's QR code) and kept in this browser; in the desktop window
// the page is served inside the appliance and needs no key. Replies stream as server-sent
// events; a silence of idleSeconds starts a new conversation for the next visitor.
import "./style.css";
import { setupDesktop } from "./desktop";
import { Voice } from "./voice";

interface Bot {
  name: string;
  languages: string[];
  default_language: string;
  greeting: Record<string, string>;
  suggestions: Record<string, string[]>;
  idle_seconds: number;
  paused: boolean;
}

const KEY = "voicebot.key";

// The screen's own words, per language (the bot's words come from the content).
const UI: Record<string, { ask: string; send: string }> = {
  en: { ask: "Ask me anything about your visit", send: "Send" },
  es: { ask: "Pregúntame lo que quieras sobre tu visita", send: "Enviar" },
  fr: { ask: "Posez-moi vos questions sur la visite", send: "Envoyer" },
  de: { ask: "Fragen Sie mich alles zu Ihrem Besuch", send: "Senden" },
};
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let bot: Bot;
let lang = "";
let session = "";
let idleTimer = 0;
let voiceLangs: string[] = []; // languages the appliance can hear (GET /v1/voice/engines)
let speakLangs: string[] = []; // languages the appliance can speak
let browserAsked = false; // the question came from the browser's own recognizer: speak the reply
let liveLine: HTMLElement | null = null; // the visitor's words as they are being heard

// authHeaders carries the screen's key when it has one (the desktop window needs none).
function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const key = localStorage.getItem(KEY);
  return key ? { Authorization: "Bearer " + key, ...extra } : extra;
}

async function errorText(res: Response): Promise<string> {
  try {
    const body = await res.json();
    return body?.error?.message ?? res.statusText;
  } catch {
    return res.statusText;
  }
}

function showSetup(message = "") {
  $("setup").hidden = false;
  $("chat").hidden = true;
  $("setup-error").textContent = message;
  $<HTMLInputElement>("key").focus();
}

// insecure says, on a plain-HTTP page opened from another machine, why the microphone is off
// (a browser grants it only to a secure page: https, or loopback) and how to fix it: open the
// appliance's https address, after trusting its certificate authority. True when it did.
function insecure(): boolean {
  if (window.isSecureContext) return false;
  const https = "https://" + location.host + "/" + location.hash;
  const link = $<HTMLAnchorElement>("https-link");
  link.href = https;
  link.textContent = "https://" + location.host + "/";
  $<HTMLAnchorElement>("ca-link").href = "/ca.pem";
  $("insecure").hidden = false;
  return true;
}

// pair trades the pairing code of a link from the dashboard's QR code (#pair=...) for this
// screen's own key (POST /v1/pair), kept in this browser; the code works once.
async function pair(code: string): Promise<string> {
  history.replaceState(null, "", location.pathname);
  const res = await fetch("/v1/pair", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
  });
  if (!res.ok) return "Pairing failed: " + (await errorText(res));
  const body = await res.json();
  localStorage.setItem(KEY, body.key);
  return "";
}

async function start() {
  const params = new URLSearchParams(location.hash.slice(1));
  const plainLAN = insecure();
  const code = params.get("pair");
  if (code) {
    if (plainLAN) return showSetup("This pairing link must be opened over HTTPS: follow the link above.");
    const failed = await pair(code);
    if (failed) return showSetup(failed);
  }
  const key = params.get("key");
  if (key) {
    localStorage.setItem(KEY, key);
    history.replaceState(null, "", location.pathname);
  }
  // Without a key, ask anyway: the desktop window is let in; a LAN browser gets 401 and the form.
  const hadKey = !!localStorage.getItem(KEY);
  const res = await fetch("/v1/bot", { headers: authHeaders() });
  if (res.status === 403 && plainLAN) {
    $("setup").hidden = true; // the appliance serves this address over HTTPS only: the notice says so
    return;
  }
  if (!res.ok) {
    if (res.status === 401 || res.status === 403) localStorage.removeItem(KEY);
    return showSetup(hadKey ? await errorText(res) : "");
  }
  bot = await res.json();
  document.title = bot.name;
  $("bot-name").textContent = bot.name;
  $("setup").hidden = true;
  $("chat").hidden = false;
  $("paused").hidden = !bot.paused;
  const langs = $("langs");
  langs.replaceChildren(
    ...bot.languages.map((l) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = l.toUpperCase();
      b.dataset.lang = l;
      b.addEventListener("click", () => reset(l));
      return b;
    }),
  );
  await checkVoice();
  reset(bot.default_language);
}

// checkVoice asks which languages the appliance can hear; the microphone shows only for those,
// and only where the browser may use one (a secure context, or the desktop window).
async function checkVoice() {
  voiceLangs = [];
  speakLangs = [];
  const res = await fetch("/v1/voice/engines", { headers: authHeaders() });
  if (!res.ok) return; // a key without the voice scope: text only
  const body = await res.json();
  for (const e of body.engines ?? []) {
    if (e.kind === "stt" && navigator.mediaDevices) voiceLangs.push(...e.languages);
    if (e.kind === "tts") speakLangs.push(...e.languages);
  }
}

// The browser's own speech, for languages the appliance cannot hear or speak (a build without
// the built-in engines, or a language without one): its recognizer where it has one (Chromium's
// needs the internet; Safari's and Edge's may not), its synthesizer for the replies.
const BrowserRecognition = (window as any).SpeechRecognition ?? (window as any).webkitSpeechRecognition;

function browserHear() {
  const rec = new BrowserRecognition();
  rec.lang = lang;
  rec.interimResults = true;
  $("mic").dataset.state = "listening";
  $("voice-status").textContent = STATUS.listening;
  rec.onresult = (e: any) => {
    const r = e.results[e.results.length - 1];
    if (r.isFinal) {
      browserAsked = true;
      ask(r[0].transcript);
    }
  };
  rec.onerror = (e: any) => add("bot", "The browser's speech recognition failed: " + e.error).classList.add("error");
  rec.onend = () => {
    $("mic").dataset.state = "off";
    $("voice-status").textContent = "";
  };
  rec.start();
}

function browserSpeak(text: string, l: string) {
  if (!browserAsked || !("speechSynthesis" in window) || speakLangs.includes(l)) return;
  browserAsked = false;
  const u = new SpeechSynthesisUtterance(text);
  u.lang = l;
  speechSynthesis.speak(u);
}

const STATUS: Record<string, string> = { off: "", listening: "Listening…", hearing: "Hearing you…", thinking: "Thinking…", speaking: "Speaking… (tap or talk to interrupt)" };

const voice = new Voice({
  key: () => localStorage.getItem(KEY),
  lang: () => lang,
  session: () => session,
  setSession: (id) => (session = id),
  visitorLine: (text, final) => {
    armIdle();
    $("suggestions").replaceChildren();
    if (!liveLine) liveLine = add("visitor", text);
    liveLine.textContent = text;
    liveLine.classList.toggle("pending", !final);
    if (final) liveLine = null;
  },
  botLine: (text, l, offer) => {
    liveLine = null;
    const li = add("bot", text);
    li.lang = l;
    if (offer) {
      li.classList.add("repair");
      $("suggestions").replaceChildren(suggestion(offer));
    }
  },
  status: (st, level) => {
    const mic = $("mic");
    if (mic.dataset.state !== st) $("voice-status").textContent = STATUS[st] ?? "";
    mic.dataset.state = st;
    mic.setAttribute("aria-pressed", String(st !== "off"));
    if (level !== undefined) mic.style.setProperty("--level", String(Math.min(1, level * 8)));
  },
  error: (msg) => {
    const li = add("bot", msg);
    li.classList.add("error");
  },
});

// reset starts a new conversation in a language: greeting and suggestions, no session.
function reset(l: string) {
  lang = l;
  session = "";
  document.documentElement.lang = l;
  const words = UI[l] ?? UI.en;
  $<HTMLInputElement>("text").placeholder = words.ask;
  $("ask").querySelector("button[type=submit]")!.textContent = words.send;
  for (const b of $("langs").querySelectorAll<HTMLButtonElement>("button")) {
    b.setAttribute("aria-pressed", String(b.dataset.lang === l));
  }
  $("messages").replaceChildren();
  liveLine = null;
  if (voice.on) voice.close();
  $("mic").hidden = !voiceLangs.includes(l) && !BrowserRecognition;
  add("bot", bot.greeting[l] ?? "");
  const sugg = $("suggestions");
  sugg.replaceChildren(...(bot.suggestions[l] ?? []).map(suggestion));
  $<HTMLInputElement>("text").focus();
}

// suggestion is a question the visitor can ask with a tap (the content's suggestions, or the
// reading offered when a spoken question was not heard well enough).
function suggestion(q: string): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "suggestion";
  b.textContent = q;
  b.addEventListener("click", () => ask(q));
  return b;
}

function add(who: "visitor" | "bot", text: string): HTMLElement {
  const li = document.createElement("li");
  li.className = "msg " + who;
  li.textContent = text;
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

function armIdle() {
  clearTimeout(idleTimer);
  idleTimer = window.setTimeout(() => reset(bot.default_language), (bot.idle_seconds || 120) * 1000);
}

async function ask(text: string) {
  text = text.trim();
  if (!text) return;
  armIdle();
  $("suggestions").replaceChildren();
  add("visitor", text);
  const out = add("bot", "…");
  out.classList.add("pending");
  const res = await fetch("/v1/chat", {
    method: "POST",
    headers: authHeaders({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify({ text, session_id: session || undefined, lang }),
  });
  if (!res.ok || !res.body) {
    out.classList.add("error");
    out.textContent = await errorText(res);
    if (res.status === 401) showSetup(out.textContent);
    $("paused").hidden = res.status !== 503 || !out.textContent.includes("paused");
    return;
  }
  $("paused").hidden = true;
  // Read the server-sent events: turn, delta pieces, done.
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let shown = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "{}");
      if (event === "turn") session = data.session_id;
      if (event === "delta") {
        shown += data.text;
        out.textContent = shown;
      }
      if (event === "done") {
        out.textContent = data.reply.text;
        out.lang = data.reply.lang;
        out.classList.remove("pending");
        browserSpeak(data.reply.text, data.reply.lang);
      }
    }
  }
}

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  localStorage.setItem(KEY, $<HTMLInputElement>("key").value.trim());
  start();
});
$("mic").addEventListener("click", () => (voiceLangs.includes(lang) ? voice.toggle() : browserHear()));
$("ask").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("text");
  const text = input.value;
  input.value = "";
  ask(text);
});
window.addEventListener("hashchange", start); // a link with #key= or #pair= opened on this page
start();
setupDesktop();
