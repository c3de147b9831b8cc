/*
 * early-socket.js — opens the WebSocket while the rest of the page loads.
 *
 * A classic script at the top of <head>: the host starts sending the hello
 * (descriptors and all history) while the browser still fetches and compiles
 * the dashboard's modules, instead of after them.  Messages that arrive
 * before js/socket.js takes the socket over wait here, in order; socket.js
 * adopts the socket when its URL is the one it would open itself, and closes
 * it otherwise.  Nothing here draws or parses.
 *
 * It also sets the page's first User Timing mark, "vitals:boot": when the
 * first script of the page ran (see app.js for the others).
 */
(function () {
  if (window.performance && performance.mark) performance.mark("vitals:boot");
  if (!("WebSocket" in window)) return;
  /* The URL js/socket.js socketUrl() makes, token and all: it adopts this
   * socket only when the two agree. */
  var loc = window.location;
  var token = new URLSearchParams(loc.search || "").get("token");
  var url = (loc.protocol === "https:" ? "wss:" : "ws:") + "//" + loc.host + "/ws" +
    (token ? "?token=" + encodeURIComponent(token) : "");
  var early = { url: url, ws: null, messages: [], closed: false };
  try {
    early.ws = new WebSocket(url);
  } catch (err) {
    return;                    /* socket.js opens its own and reports why */
  }
  early.onMessage = function (ev) {
    early.messages.push(ev.data);
  };
  early.onClose = function () {
    early.closed = true;
  };
  early.ws.addEventListener("message", early.onMessage);
  early.ws.addEventListener("close", early.onClose);
  window.__vitalsEarlySocket = early;
})();
