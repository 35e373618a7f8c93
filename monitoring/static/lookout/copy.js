// Copy buttons (DSNs, tokens): one delegated listener, no inline handlers.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.lookout-copy");
  if (!button) return;
  navigator.clipboard.writeText(button.dataset.copy).then(() => {
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
});
