// A test call in the browser: ask our server for a LiveKit token (the agent is dispatched by it),
// then join with the LiveKit JS client (vendored, loaded only when a call starts), publish the
// microphone and play what the agent says.
(function () {
  "use strict";
  var room = null;

  function loadClient(src) {
    return new Promise(function (resolve, reject) {
      if (window.LivekitClient) return resolve(window.LivekitClient);
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () { resolve(window.LivekitClient); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  async function start(button) {
    var status = document.getElementById(button.dataset.status);
    status.textContent = "…";
    try {
      var response = await fetch(button.dataset.url, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": document.body.dataset.csrf },
      });
      var json = (response.headers.get("content-type") || "").indexOf("json") >= 0;
      var body = json ? await response.json() : null;
      if (!response.ok || !body) throw new Error(body && body.error ? body.error.message : "HTTP " + response.status);
      var LK = await loadClient(button.dataset.client);
      room = new LK.Room();
      room.on(LK.RoomEvent.TrackSubscribed, function (track) {
        if (track.kind === "audio") document.body.appendChild(track.attach());
      });
      await room.connect(body.data.url, body.data.token);
      await room.localParticipant.setMicrophoneEnabled(true);
      status.textContent = body.data.room;
      button.hidden = true;
      document.getElementById(button.dataset.hangup).hidden = false;
    } catch (error) {
      status.textContent = String(error.message || error);
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.matches("[data-test-call]")) start(target);
    if (target.matches("[data-hang-up]") && room) {
      room.disconnect();
      target.hidden = true;
      document.getElementById(target.dataset.call).hidden = false;
    }
  });
})();
