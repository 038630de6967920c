// The borrower's and partner's pages. Two jobs, both optional (every page works without script):
// 1. A form marked data-once is sent once: its button is disabled on submit, so a double click posts one request
//    (the server's Idempotency-Key would absorb a second one anyway).
// 2. An application page marked data-follow follows its application by server-sent events and swaps in the
//    page's live part when the status moves (checking → offer → sign → card → paid), without a reload.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) return;
  if (form.dataset.sent === "1") { event.preventDefault(); return; }
  form.dataset.sent = "1";
  for (const button of form.querySelectorAll("button[type=submit], button:not([type])")) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
});

function follow(live) {
  const source = new EventSource(live.dataset.follow);
  let status = live.dataset.status;
  source.addEventListener("status", async (event) => {
    const application = JSON.parse(event.data);
    if (application.status === status) return;
    status = application.status;
    const answer = await fetch(window.location.pathname, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!answer.ok) return;
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = page.getElementById("live");
    if (fresh) {
      live.innerHTML = fresh.innerHTML;
      live.dataset.status = fresh.dataset.status;
    }
  });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) source.close(); };
}

document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (live && live.dataset.follow && window.EventSource) follow(live);
});
