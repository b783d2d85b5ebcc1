// Pioneer stations: the QR sheet's print button (no inline handlers: the CSP forbids them).
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest && ev.target.closest(".js-print");
  if (btn) { ev.preventDefault(); window.print(); }
});
