// A live count beside a text box with a maxlength (`<output for=ID data-max=N>`): a help only, the
// limit itself is the box's maxlength and the server's check.
document.querySelectorAll("output[data-max]").forEach((output) => {
  const box = document.getElementById(output.htmlFor.value);
  if (!box) return;
  const max = Number(output.dataset.max).toLocaleString("en-IN");
  const show = () => { output.value = `${box.value.length.toLocaleString("en-IN")} / ${max}`; };
  output.hidden = false;
  box.addEventListener("input", show);
  show();
});
