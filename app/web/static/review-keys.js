// Keyboard shortcuts on the review item (progressive enhancement: the form works without them).
// A letter key acts on the element marked data-shortcut="<letter>": a decision radio is chosen
// and the note gets the focus; a link or button is followed. Ctrl+Enter (or Cmd+Enter) in the
// note records the decision. Keys typed into a field are never taken as shortcuts.
const typing = (target) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));

document.addEventListener("keydown", (event) => {
  const form = document.querySelector(".app-decision-form");
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form?.contains(event.target)) {
    event.preventDefault();
    form.requestSubmit();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const target = document.querySelector(`[data-shortcut="${event.key.toLowerCase()}"]`);
  if (!target) return;
  event.preventDefault();
  if (target instanceof HTMLInputElement && target.type === "radio") {
    target.click(); // a click, so the decision's own fields are revealed (reveal.js)
    const reveal = target.dataset.reveals;
    const first = reveal && document.getElementById(reveal)?.querySelector("input");
    (first || document.getElementById("note"))?.focus();
  } else {
    target.click();
  }
});
