// Placeholder until the softphone lands: shows what /healthz says.
fetch('healthz')
  .then((r) => r.json())
  .then((h) => {
    document.getElementById('health').textContent = `rtcgate ${h.version}: ${h.status}`;
  })
  .catch(() => {
    document.getElementById('health').textContent = 'rtcgate is not answering /healthz';
  });
