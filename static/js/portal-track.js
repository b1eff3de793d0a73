// 查询办理 (portal track pages): the print button of the opinion page. Without JavaScript the
// button stays hidden and the browser's own print command prints the same page.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
