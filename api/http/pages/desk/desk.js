// Progressive enhancement only: a button whose work takes seconds (rendering, sealing) says so and cannot be
// pressed twice. Every page works without this file. (The form's data, with the pressed button, is taken when
// the submit event ends; the button is disabled just after.)
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (!button || !button.dataset.busy) return;
  if (button.form.dataset.sent) { event.preventDefault(); return; }
  button.form.dataset.sent = "1";
  setTimeout(() => { button.disabled = true; button.textContent = button.dataset.busy; }, 0);
});
