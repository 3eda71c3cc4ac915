// The pages' few behaviours, kept out of the markup: the content policy allows no inline scripts
// or on* handlers (web/headers.py).
"use strict";

// <input type="checkbox" data-check-all="item">: ticks or clears every input[name=item] in its form.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.checkAll || !box.form) return;
  for (const other of box.form.querySelectorAll(`input[name="${box.dataset.checkAll}"]`)) {
    other.checked = box.checked;
  }
});

// <form data-confirm="question">: asks before submitting.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
