// A meeting's page: joining the live meeting in the browser (our server gives the LiveKit URL and a
// token for the signed-in person, as the agents page's test call does; the LiveKit JS client is
// vendored and loaded only when someone joins), and the transcript page's print button.
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

  async function join(button) {
    var status = document.getElementById(button.dataset.status);
    status.textContent = "…";
    try {
      var response = await fetch(button.dataset.url, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": document.body.dataset.csrf },
      });
      var json = (response.headers.get("content-type") || "").indexOf("json") >= 0;
      var body = json ? await response.json() : null;
      if (!response.ok || !body) throw new Error(body && body.error ? body.error.message : button.dataset.failed);
      var LK = await loadClient(button.dataset.client);
      room = new LK.Room();
      room.on(LK.RoomEvent.TrackSubscribed, function (track) {
        if (track.kind === "audio") document.body.appendChild(track.attach());
      });
      await room.connect(body.data.url, body.data.token);
      await room.localParticipant.setMicrophoneEnabled(true);
      status.textContent = "";
      button.hidden = true;
      document.getElementById(button.dataset.leave).hidden = false;
    } catch (error) {
      status.textContent = String(error.message || error);
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.matches("[data-join]")) join(target);
    if (target.matches("[data-leave-room]") && room) {
      room.disconnect();
      room = null;
      target.hidden = true;
      document.getElementById(target.dataset.joinButton).hidden = false;
    }
    if (target.matches("[data-print]")) window.print();
  });
})();
