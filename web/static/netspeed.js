// The netspeed estimates of the add and edit forms, live: choosing a netspeed marks its row of
// the table and shows its sentence; choosing another country on the add form posts the form
// back for that country's figures, as its "Show the expected load" button does. The forms
// work the same without this file (web/netspeed_rates.hpp).
'use strict';
(function () {
  const rates = document.getElementById('netspeed-rates');
  const form = rates && rates.closest('form');
  const speed = form && form.querySelector('select[name=netspeed]');
  const expect = document.getElementById('netspeed-expect');
  if (!speed || !expect) return;
  speed.addEventListener('change', function () {
    for (const row of rates.querySelectorAll('tr[data-netspeed]')) {
      const chosen = row.dataset.netspeed === speed.value;
      row.classList.toggle('chosen', chosen);
      if (chosen) expect.textContent = row.dataset.expect;
    }
  });
  const country = form.querySelector('select[name=country]');
  const show = document.getElementById('show-rates');
  if (country && show) {
    country.addEventListener('change', function () { form.requestSubmit(show); });
  }
})();
