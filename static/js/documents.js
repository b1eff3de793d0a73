// Print page of an official document (templates/documents/print.html): the 打印 button.
// A separate file, not inline: the Content-Security-Policy allows scripts from 'self' only.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-doc-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
