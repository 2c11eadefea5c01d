// Copy buttons: any [data-copy-text] button copies its value to the clipboard
// (event delegation, so buttons in every table work without per-row code).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-text]");
  if (!button) return;
  event.preventDefault();
  const text = button.dataset.copyText;
  let done = false;
  try {
    await navigator.clipboard.writeText(text);
    done = true;
  } catch {
    done = false;
  }
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = done ? "Copied" : "Copy failed";
  button.dataset.copied = done ? "true" : "false";
  window.setTimeout(() => { button.textContent = label; }, 1500);
});
