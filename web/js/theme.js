/*
 * theme.js — the dark and light themes.
 *
 * js/theme-boot.js has already set <html data-theme> before the first paint.
 * This module wires the header button (a toggle: aria-pressed is true while
 * the dark theme is on), remembers an explicit choice in localStorage, and
 * follows the system's prefers-color-scheme for as long as the viewer has
 * made no choice. `onChange(theme)` lets the charts repaint their canvases.
 */

const STORAGE_KEY = "vitals-theme";
const THEMES = ["dark", "light"];
const THEME_COLOUR = { dark: "#0b0f14", light: "#f4f6f9" };

function stored() {
  try {
    const t = window.localStorage.getItem(STORAGE_KEY);
    return THEMES.includes(t) ? t : null;
  } catch {
    return null;
  }
}

function store(theme) {
  try {
    window.localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    /* storage blocked: the choice lasts until the page is reloaded */
  }
}

export class Theme {
  constructor(button, onChange) {
    this.button = button;
    this.onChange = onChange;
    this.prefersLight = window.matchMedia("(prefers-color-scheme: light)");
    this.button.addEventListener("click", () => this.toggle());
    this.prefersLight.addEventListener("change", () => {
      if (!stored()) this.#apply(this.prefersLight.matches ? "light" : "dark");
    });
    const initial = stored() || (this.prefersLight.matches ? "light" : "dark");
    this.#apply(initial, false);
  }

  get current() {
    return document.documentElement.getAttribute("data-theme") === "light" ? "light" : "dark";
  }

  toggle() {
    const next = this.current === "dark" ? "light" : "dark";
    store(next);
    this.#apply(next);
  }

  #apply(theme, notify = true) {
    const changed = theme !== this.current;
    document.documentElement.setAttribute("data-theme", theme);
    const meta = document.querySelector('meta[name="theme-color"]');
    if (meta) meta.setAttribute("content", THEME_COLOUR[theme]);
    this.button.setAttribute("aria-pressed", String(theme === "dark"));
    this.button.setAttribute("title", theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme");
    if (changed && notify && this.onChange) this.onChange(theme);
  }
}
