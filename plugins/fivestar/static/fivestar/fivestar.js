// Five-star evaluation: a click on a one-time rating link selects it, for copying.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest(".fs-url");
  if (!link || event.ctrlKey || event.metaKey) return;
  var range = document.createRange();
  range.selectNodeContents(link);
  var sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
});
