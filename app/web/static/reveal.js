// Conditional reveals for radios: choosing an option with data-reveals="ID" shows that block
// and hides the others of its group. The NHS.UK frontend's own reveal also sets aria-expanded
// on the radio, which ARIA does not allow there (axe: aria-allowed-attr), so these radios do not
// use it. Without JavaScript every block shows, and the server reads only the chosen one's fields.
const groups = new Set();
for (const input of document.querySelectorAll("input[type=radio][data-reveals]")) {
  groups.add(input.name);
  input.setAttribute("aria-controls", input.dataset.reveals);
}

function sync(name) {
  for (const input of document.querySelectorAll(`input[type=radio][name="${name}"][data-reveals]`)) {
    document.getElementById(input.dataset.reveals)?.classList.toggle("nhsuk-radios__conditional--hidden", !input.checked);
  }
}

for (const name of groups) {
  sync(name);
  for (const input of document.querySelectorAll(`input[type=radio][name="${name}"]`)) {
    input.addEventListener("change", () => sync(name));
  }
}
