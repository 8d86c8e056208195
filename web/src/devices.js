// Audio input and output choice: the lists of <select>s, the microphone stream, the speaker.

/** Open the microphone (deviceId: '' for the default). Rejects with the getUserMedia error. */
export function openMicrophone(deviceId) {
  return navigator.mediaDevices.getUserMedia({
    audio: deviceId ? { deviceId: { exact: deviceId } } : true,
    video: false,
  });
}

/** Fill the microphone and speaker <select>s from enumerateDevices(), keeping the choices. */
export async function listDevices(micSelect, speakerSelect) {
  const devices = await navigator.mediaDevices.enumerateDevices();
  fill(micSelect, devices.filter((d) => d.kind === 'audioinput'), 'Microphone');
  fill(speakerSelect, devices.filter((d) => d.kind === 'audiooutput'), 'Speaker');
  /* without setSinkId (Firefox before 116) the output cannot be chosen */
  speakerSelect.disabled = typeof HTMLMediaElement.prototype.setSinkId !== 'function';
}

function fill(select, devices, what) {
  const keep = select.value;
  select.replaceChildren(new Option(`Default ${what.toLowerCase()}`, ''));
  devices
    .filter((d) => d.deviceId && d.deviceId !== 'default')
    .forEach((d, i) => select.add(new Option(d.label || `${what} ${i + 1}`, d.deviceId)));
  select.value = [...select.options].some((o) => o.value === keep) ? keep : '';
}

/** Play audioEl on the speaker deviceId ('' for the default) where the browser allows it. */
export async function useSpeaker(audioEl, deviceId) {
  if (typeof audioEl.setSinkId === 'function') await audioEl.setSinkId(deviceId);
}
