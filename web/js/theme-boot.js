/*
 * theme-boot.js — picks the theme before the page is first drawn.
 *
 * A classic (blocking) script in <head>, so there is no flash of the wrong
 * theme: the choice stored by the theme button, else the system's
 * prefers-color-scheme. js/theme.js does the rest (the button, changes).
 */
(function () {
  var theme = null;
  try {
    theme = window.localStorage.getItem("vitals-theme");
  } catch (err) {
    theme = null;              /* storage blocked: follow the system */
  }
  if (theme !== "light" && theme !== "dark") {
    theme = window.matchMedia && window.matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark";
  }
  document.documentElement.setAttribute("data-theme", theme);
})();
