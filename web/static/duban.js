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

// After htmx redraws a list in place: when the person asked for it (a filter submitted, a page of
// the pager), focus moves to the results' heading so the next Tab starts there; while they type
// or pick a filter, focus stays put and the count is announced by the page's status line.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "results") return;
  const heading = target.querySelector("[data-results-heading]");
  const status = document.getElementById("results-status");
  if (status && heading) status.textContent = heading.textContent;
  const trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
  const asked = trigger && (trigger.type === "submit" || trigger.type === "click");
  if (heading && asked) heading.focus();
});
