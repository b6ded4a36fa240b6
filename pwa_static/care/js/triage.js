// Who needs a person first: the order of the patient list (issue 16). A patient with an open
// emergency (or a severe ANC) comes first, then one with an urgent red flag (or a moderate
// ANC), then the rest of red, amber and green. Inside each, more emergencies first, then more
// urgent ones, then a paused course (interrupted, needs re-titration, held: treatment.js), then
// the one whose oldest red flag has waited longest; the name breaks ties.

import { pausedRank } from './treatment.js';
import { patientLight } from './ui.js';

const LEVEL = { red: 2, amber: 3, green: 4 };

function count(flags, severity) {
  return flags.filter((f) => f.severity === severity).length;
}

/** [{patient, light, tier, oldestSerious}] sorted; `now` is an argument for the tests. */
export function triage(patients, now = Date.now()) {
  const rows = patients.map((patient) => {
    const flags = patient.open_red_flags || [];
    const band = patient.status ? patient.status.anc_band : null;
    const emergencies = count(flags, 'emergency');
    const urgent = count(flags, 'urgent');
    const status = patientLight(patient, now);
    let tier = LEVEL[status.level];
    if (emergencies || band === 'severe') tier = 0;
    else if (urgent || band === 'moderate') tier = 1;
    const serious = flags.filter((f) => f.severity !== 'routine').map((f) => new Date(f.opened_at).getTime());
    const oldest = serious.length ? Math.min(...serious) : null;
    return {
      patient, light: status, tier, emergencies, urgent,
      oldestSerious: oldest === null ? null : new Date(oldest).toISOString(),
      oldest: oldest === null ? Infinity : oldest,
    };
  });
  return rows.sort((a, b) => a.tier - b.tier || b.emergencies - a.emergencies || b.urgent - a.urgent
    || pausedRank(a.patient) - pausedRank(b.patient) || a.oldest - b.oldest || a.patient.display_name.localeCompare(b.patient.display_name, undefined, { numeric: true }));
}
