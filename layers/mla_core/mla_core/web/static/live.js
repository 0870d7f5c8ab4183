// Live updates (mla_core.live): this page's WebSocket, opened with a fresh one-minute ticket each
// time, and its events turned into DOM events on <body> that the page's htmx elements listen for:
//   live:complaint          a complaint was created or changed, or passed its SLA
//   live:complaint-<ref>    complaint #<ref> changed
//   live:call               a call started or ended
//   live:sla                a complaint passed its SLA (the banner)
//   live:tenant             a tenant's provisioning moved (the admin panel); live:tenant-<id> that tenant
//   live:meeting            a meeting was scheduled, changed, started or ended, or its participants changed
//   live:meeting-<id>       meeting <id> changed, or its note-taker stored more of its transcript
//   live:reload             the page missed more than is kept: reload every live part
// Each element asks the server for its own fragment, so rendering stays in the Jinja partials.
(function () {
  "use strict";
  const body = document.body;
  const base = body.dataset.live;
  const status = document.getElementById("live-status");
  if (!base || !status) return;
  const PING_MS = 5 * 60 * 1000; // API Gateway closes a connection idle for 10 minutes
  const rendered = Number(body.dataset.rendered || 0); // when the server began this page's request (ms)
  const RECENT = 20; // on the first connect, the events looked at for those since the page was rendered
  let last = null; // the id of the newest event this page has applied
  let retries = 0;

  function show(state) {
    status.dataset.state = state;
    status.textContent = status.dataset[state] || "";
  }

  function fire(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function apply(event) {
    if (last !== null && event.id <= last) return; // already applied (a catch-up overlapping a push)
    last = event.id;
    const kind = event.type.split(".")[0];
    if (kind === "complaint" || kind === "sla") fire("live:complaint", event);
    if (event.reference) fire("live:complaint-" + event.reference, event);
    if (kind === "sla") {
      fire("live:sla", event);
      const alerts = document.getElementById("live-alerts");
      if (alerts && alerts.dataset.src && window.htmx) {
        htmx.ajax("GET", alerts.dataset.src + "?reference=" + event.reference, { target: alerts, swap: "afterbegin" });
      }
    }
    if (kind === "call") fire("live:call", event);
    if (kind === "meeting") {
      if (event.type === "meeting.updated") fire("live:meeting", event);
      if (event.meeting_id) fire("live:meeting-" + event.meeting_id, event);
    }
    if (kind === "tenant") {
      fire("live:tenant", event);
      fire("live:tenant-" + event.tenant_id, event);
    }
  }

  // What happened while the socket was down; `since` (first connect): only the events after the page
  // was rendered count (what came before it is in the page already).
  async function catchUp(since) {
    const response = await fetch(base + "/events?after=" + last, { credentials: "same-origin" });
    if (!response.ok) return;
    const missed = await response.json();
    if (!missed.complete && !since) {
      last = missed.newest;
      fire("live:reload", {});
      return;
    }
    missed.events.forEach(function (event) {
      if (!since || Date.parse(event.at) >= since) apply(event);
      else last = Math.max(last, event.id);
    });
  }

  async function ticket() {
    const response = await fetch(base + "/ticket", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": body.dataset.csrf || "" },
    });
    if (response.redirected) return { signedOut: true }; // to the sign-in page: nothing to listen to
    return response.ok ? response.json() : null;
  }

  function again() {
    retries += 1;
    const wait = Math.min(30000, 1000 * 2 ** Math.min(retries, 5)) * (0.5 + Math.random() / 2);
    setTimeout(connect, wait);
  }

  async function connect() {
    let granted = null;
    try {
      granted = await ticket();
    } catch (error) {
      granted = null;
    }
    if (!granted || !granted.live) {
      show("off");
      if (!(granted && granted.signedOut)) again();
      return;
    }
    const socket = new WebSocket(granted.url);
    let pinger = null;
    socket.addEventListener("open", function () {
      retries = 0;
      show("on");
      pinger = setInterval(function () { socket.send('{"action":"ping"}'); }, PING_MS);
      if (last === null) {
        last = Math.max(0, granted.newest - RECENT);
        catchUp(rendered);
      } else {
        catchUp(0);
      }
    });
    socket.addEventListener("message", function (message) {
      let event = null;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (event && event.id && event.type) apply(event);
    });
    socket.addEventListener("close", function () {
      clearInterval(pinger);
      show("off");
      again();
    });
  }

  // A call's duration on the "calls now" panel, in whole minutes, between two reads of the panel.
  setInterval(function () {
    document.querySelectorAll("[data-since]").forEach(function (element) {
      const minutes = Math.max(0, Math.floor((Date.now() - Number(element.dataset.since)) / 60000));
      element.textContent = minutes + " " + (element.dataset.unit || "");
    });
  }, 20000);

  connect();
})();
