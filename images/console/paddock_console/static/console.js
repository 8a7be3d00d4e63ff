// Live pages: every second the page's main part is fetched again and replaced when it changed,
// so that a task that starts or dies, or a node that goes down, shows without a reload.
// A <pre data-src> (a service's logs) is filled from its URL every 3 s and kept across refreshes.
"use strict";
(function () {
  const main = document.getElementById("main");
  async function fill(root) {
    for (const pre of root.querySelectorAll("pre[data-src]")) {
      const response = await fetch(pre.dataset.src, {credentials: "same-origin"});
      if (response.ok) { pre.textContent = await response.text(); }
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
      }
      if (tick % 3 === 0) { await fill(main); }
    } catch (error) { /* the next tick tries again */ }
  }
  if (main && main.dataset.live) {
    fill(main);
    setInterval(refresh, 1000);
  }
})();
