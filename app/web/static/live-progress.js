// Live campaign progress without <meta refresh>: every few seconds the page fetches its own
// live part (/campaigns/ID/progress) and swaps it in, so the reader keeps their place. Without
// JavaScript the page shows a "Refresh now" link instead. Polling stops once the campaign is
// no longer live (the fragment then carries no poll URL) or the tab is hidden.
const region = document.getElementById("campaign-progress");
const url = region?.dataset.pollUrl;
const seconds = Number(region?.dataset.pollSeconds || 10);

async function poll() {
  if (document.hidden) return;
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const html = await response.text();
    const next = new DOMParser().parseFromString(`<div>${html}</div>`, "text/html").body.firstElementChild;
    if (next) region.replaceChildren(...next.childNodes);
    if (!html.includes("update every")) clearInterval(timer);
  } catch {
    // A dropped connection is retried at the next tick; the page still shows its last figures.
  }
}

const timer = url ? setInterval(poll, seconds * 1000) : undefined;
