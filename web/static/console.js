// The console works without this file; it only adds what a page would otherwise need a reload for.
"use strict";

// A progress bar that follows close of business: <div data-progress-url="..."> is refreshed every second until
// its JSON says the run is over, then the page reloads to show the finished runs.
function followProgress(box) {
  const url = box.dataset.progressUrl;
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-progress-text]");
  async function tick() {
    try {
      const answer = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!answer.ok) { setTimeout(tick, 2000); return; }
      const state = await answer.json();
      bar.value = Math.round(state.fraction * 100);
      bar.textContent = `${bar.value}%`;
      text.textContent = state.text;
      if (state.running) { setTimeout(tick, 1000); } else { window.location.reload(); }
    } catch (error) { setTimeout(tick, 2000); }
  }
  tick();
}

// A form whose preview (a quote for the product being configured) is drawn beside it as it is filled in.
function previewBeside(form) {
  const target = document.getElementById(form.dataset.previewTarget);
  let timer = null;
  async function refresh() {
    const answer = await fetch(form.dataset.previewUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" });
    target.innerHTML = await answer.text();
  }
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 400); });
}

// Buttons that change money or end something ask once more.
function confirmFirst(form) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-progress-url]").forEach(followProgress);
  document.querySelectorAll("form[data-preview-url]").forEach(previewBeside);
  document.querySelectorAll("form[data-confirm]").forEach(confirmFirst);
});
