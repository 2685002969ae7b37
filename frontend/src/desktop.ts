// The desktop window's extras: in the Wails window the appliance binds window.go.app.Window.
// In kiosk mode the page blocks the ways out a visitor could find (context menu, selection,
// drag) and the operator's exit keys open a PIN keypad; once unlocked, a short operator menu
// opens the dashboard, leaves full screen or quits. Outside kiosk mode Ctrl+Shift+D opens the
// dashboard, signed in. In a LAN browser there is no window.go and none of this runs.

interface KeyCombo {
  ctrl: boolean;
  alt: boolean;
  shift: boolean;
  meta: boolean;
  code: string;
}

interface WindowAPI {
  Info(): Promise<{ kiosk: boolean; exit_keys: KeyCombo; version: string }>;
  Unlock(pin: string): Promise<string>;
  Lock(): Promise<void>;
  Quit(): Promise<string>;
  ExitFullscreen(): Promise<string>;
  OpenDashboard(): Promise<string>;
}

declare global {
  interface Window {
    go?: { app?: { Window?: WindowAPI } };
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function matches(e: KeyboardEvent, k: KeyCombo): boolean {
  return e.code === k.code && e.ctrlKey === k.ctrl && e.altKey === k.alt && e.shiftKey === k.shift && e.metaKey === k.meta;
}

// The Wails runtime binds window.go a moment after the page loads.
async function windowAPI(): Promise<WindowAPI | undefined> {
  for (let i = 0; i < 50; i++) {
    const w = window.go?.app?.Window;
    if (w) return w;
    if (!("runtime" in window) && i > 5) return undefined; // not in the desktop window
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

export async function setupDesktop() {
  const api = await windowAPI();
  if (!api) return;
  const info = await api.Info();
  const dialog = $<HTMLDialogElement>("operator");
  const pin = $<HTMLInputElement>("pin");

  const showPIN = () => {
    $("pin-form").hidden = false;
    $("operator-menu").hidden = true;
    $("pin-error").textContent = "";
    pin.value = "";
    if (!dialog.open) dialog.showModal();
    pin.focus();
  };
  const showMenu = () => {
    $("pin-form").hidden = true;
    $("operator-menu").hidden = false;
    $("op-error").textContent = "";
    if (!dialog.open) dialog.showModal();
    $("op-back").focus(); // the safe choice first
  };
  const close = () => {
    if (dialog.open) dialog.close();
    api.Lock();
  };
  const run = async (f: () => Promise<string>) => {
    const err = await f();
    $("op-error").textContent = err;
    if (!err) close();
  };

  $("keypad").replaceChildren(
    ...["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "C"].map((d) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = d;
      b.addEventListener("click", () => {
        if (d === "⌫") pin.value = pin.value.slice(0, -1);
        else if (d === "C") pin.value = "";
        else if (pin.value.length < 12) pin.value += d;
        pin.focus();
      });
      return b;
    }),
  );
  $("pin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = await api.Unlock(pin.value);
    pin.value = "";
    if (err) {
      $("pin-error").textContent = err;
      return;
    }
    showMenu();
  });
  $("pin-cancel").addEventListener("click", close);
  $("op-back").addEventListener("click", close);
  $("op-dashboard").addEventListener("click", () => run(() => api.OpenDashboard()));
  $("op-window").addEventListener("click", () => run(() => api.ExitFullscreen()));
  $("op-quit").addEventListener("click", () => run(() => api.Quit()));
  dialog.addEventListener("cancel", (e) => {
    e.preventDefault(); // Escape: back to the visitors, locked
    close();
  });

  document.addEventListener("keydown", (e) => {
    if (info.kiosk && matches(e, info.exit_keys)) {
      e.preventDefault();
      showPIN();
    } else if (!info.kiosk && e.ctrlKey && e.shiftKey && e.code === "KeyD") {
      e.preventDefault();
      api.OpenDashboard();
    }
  });
  if (info.kiosk) {
    document.body.classList.add("kiosk");
    for (const ev of ["contextmenu", "dragstart", "selectstart"]) {
      document.addEventListener(ev, (e) => e.preventDefault());
    }
    // No zooming or reloading the page away from the visitor screen.
    document.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && ["KeyR", "KeyW", "KeyP", "Equal", "Minus", "Digit0"].includes(e.code)) e.preventDefault();
      if (e.code === "F5" || e.code === "F11") e.preventDefault();
    });
  }
}
