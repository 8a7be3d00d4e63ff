// Live pages: every second the page's main part is fetched again and replaced when it changed,
// so that a task that starts or dies, or a node that goes down, shows without a reload.
// A <pre data-follow> (a service's logs) is fed from a stream of the service's log lines as the
// engine writes them, kept across refreshes, and reconnected (from the last line's time) when
// the stream ends; where the console serves no stream, it is filled from data-src every 3 s.
"use strict";
(function () {
  const main = document.getElementById("main");
  async function fill(root) {
    for (const pre of root.querySelectorAll("pre[data-src]")) {
      if (pre.dataset.follow && !(streamed[pre.id] && streamed[pre.id].polled)) { continue; }
      const response = await fetch(pre.dataset.src, {credentials: "same-origin"});
      if (response.ok) { pre.textContent = await response.text(); }
    }
  }
  const MAX_LINES = 2000;
  const streamed = {};  // pre id -> {text, last, open}
  function show(id) {
    const pre = document.getElementById(id);
    if (!pre) { return; }
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.textContent = streamed[id].text;
    if (atEnd) { pre.scrollTop = pre.scrollHeight; }
  }
  async function follow(pre) {
    const id = pre.id;
    if (streamed[id] && streamed[id].open) { return; }
    const state = streamed[id] || (streamed[id] = {text: "", last: 0, open: false, polled: false});
    state.open = true;
    try {
      const url = pre.dataset.follow + (state.last ? "?since=" + state.last : "");
      const response = await fetch(url, {credentials: "same-origin"});
      if (!response.ok) { state.polled = true; return; }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let partial = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) { break; }
        partial += decoder.decode(value, {stream: true});
        const cut = partial.lastIndexOf("\n");
        if (cut < 0) { continue; }
        const lines = partial.slice(0, cut + 1);
        partial = partial.slice(cut + 1);
        const stamps = lines.match(/^\d{4}-\d\d-\d\dT[\d:.]+Z/gm);
        const stamp = stamps ? Date.parse(stamps[stamps.length - 1]) : NaN;
        if (Number.isFinite(stamp)) { state.last = stamp / 1000 + 0.001; }
        const all = (state.text + lines).split("\n");
        state.text = all.slice(Math.max(0, all.length - MAX_LINES - 1)).join("\n");
        show(id);
      }
    } catch (error) { /* reconnected below */ } finally {
      state.open = false;
    }
  }
  let tick = 0;
  async function refresh() {
    const typing = document.activeElement && main.contains(document.activeElement)
      && document.activeElement.tagName === "INPUT";
    if (typing) { return; }  // never replace a form the user is filling in
    tick += 1;
    try {
      const response = await fetch(location.pathname, {headers: {"X-Paddock-Fragment": "1"}, credentials: "same-origin"});
      if (response.status === 401) { location.assign("/login?next=" + encodeURIComponent(location.pathname)); return; }
      if (!response.ok && response.status !== 503) { return; }
      const html = await response.text();
      if (html !== main.dataset.last) {
        const kept = {};
        for (const pre of main.querySelectorAll("pre[data-keep]")) { kept[pre.id] = pre.textContent; }
        main.innerHTML = html;
        main.dataset.last = html;
        for (const id in kept) { const pre = document.getElementById(id); if (pre) { pre.textContent = kept[id]; } }
        for (const id in streamed) { show(id); }
      }
      for (const pre of main.querySelectorAll("pre[data-follow]")) {
        if (!(streamed[pre.id] && streamed[pre.id].polled)) { follow(pre); }
      }
      if (tick % 3 === 0) { await fill(main); }
    } catch (error) { /* the next tick tries again */ }
  }
  if (main && main.dataset.live) {
    for (const pre of main.querySelectorAll("pre[data-follow]")) { follow(pre); }
    fill(main);
    setInterval(refresh, 1000);
  }
})();
// Removing a stack stops its services: the button asks first.
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (form.classList && form.classList.contains("remove")
      && !window.confirm("Remove " + form.action.split("/").slice(-2, -1)[0] + " and all its services?")) {
    event.preventDefault();
  }
});
