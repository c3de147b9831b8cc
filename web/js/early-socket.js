/*
 * early-socket.js — opens the WebSocket while the rest of the page loads.
 *
 * A classic script at the top of <head>: the host starts sending the hello
 * (descriptors and all history) while the browser still fetches and compiles
 * the dashboard's modules, instead of after them.  Messages that arrive
 * before js/socket.js takes the socket over wait here, in order; socket.js
 * adopts the socket when its URL is the one it would open itself, and closes
 * it otherwise.  Nothing here draws or parses.
 */
(function () {
  if (!("WebSocket" in window)) return;
  var url = (window.location.protocol === "https:" ? "wss:" : "ws:") + "//" + window.location.host + "/ws";
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
