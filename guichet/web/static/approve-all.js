// "Approve all" progress page: send the next batches without a click and move the progress bar.
// Without this script the page works the same with its "continue" button (progressive enhancement).
(function () {
  "use strict";
  var form = document.getElementById("approve-all-continue");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var bar = document.getElementById("approve-all-progress");
  var status = document.getElementById("approve-all-status");
  var button = form.querySelector("button[type=submit]");

  function stopped() {
    button.disabled = false;
    status.textContent = "L'envoi s'est interrompu. Les propositions déjà envoyées le restent : " +
      "cliquez sur « Continuer l'envoi » pour reprendre.";
  }

  function step() {
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    }).then(function (data) {
      bar.max = data.total;
      bar.value = data.done;
      bar.textContent = data.done + " sur " + data.total;
      status.textContent = data.message;
      form.elements.state.value = data.state;
      if (data.finished) {
        form.submit();  // the final report, per proposal, as a page
      } else {
        step();
      }
    }).catch(stopped);
  }

  step();
}());
