// The few figures of the clinical rules the apps use on the phone, offline too, in one place
// for both apps. Each is the server's own (server/domain); tests/browser/test_static_rules.py
// fails when one of them differs from it.

/** Clozapine tablet strengths (RULES.md 1: tablets 12.5/25/50/100/200 mg; server/domain/tablets.py). */
export const TABLET_STRENGTHS_MG = [12.5, 25, 50, 100, 200];

/** The severities of a red flag, most severe first (RULES.md 4; server/domain/codes.py
 * severity_rank). */
export const SEVERITIES = ['emergency', 'urgent', 'routine'];

/** Where a severity sorts: the most severe first, an unknown one last. */
export function severityOrder(severity) {
  const at = SEVERITIES.indexOf(severity);
  return at === -1 ? SEVERITIES.length : at;
}

/** A temperature from this is a fever (RULES.md 4; server/domain/red_flags.py FEVER_C). */
export const FEVER_C = 38.0;

/** The temperatures (°C) a reading can be; outside them it was mistyped or taken in °F
 * (RULES.md 7; server/domain/red_flags.py MIN_PLAUSIBLE_C, MAX_PLAUSIBLE_C). */
export const PLAUSIBLE_C = [30.0, 45.0];

/** Hours without a bowel movement before the prompt, and before the red flag (RULES.md 4;
 * server/domain/red_flags.py BOWEL_PROMPT_AFTER, BOWEL_FLAG_AFTER). */
export const BOWEL_PROMPT_HOURS = 48;
export const BOWEL_FLAG_HOURS = 72;

/** Hours without clozapine after which the usual dose is not restarted (RULES.md 1, 6;
 * guideline L78; server/domain/treatment.py RETITRATION_AFTER). */
export const RETITRATION_AFTER_HOURS = 48;

/** The readings of a clozapine level (trough, ng/mL): from LEVEL_HIGH_NG_ML high, below
 * LEVEL_TARGET_NG_ML under target (RULES.md 7; server/domain/signals.py). */
export const LEVEL_HIGH_NG_ML = 1000;
export const LEVEL_TARGET_NG_ML = 350;

/** The readings of a CRP (mg/L): above CRP_HIGH_MG_L and from CRP_RAISED_MG_L (RULES.md 7,
 * myocarditis markers; server/domain/signals.py). */
export const CRP_HIGH_MG_L = 100;
export const CRP_RAISED_MG_L = 50;

/** Multiples of a laboratory's upper limit: troponin above TROPONIN_HIGH_MULTIPLE times, and a
 * liver test above LIVER_MULTIPLE times (RULES.md 3, 7; server/domain/signals.py). */
export const TROPONIN_HIGH_MULTIPLE = 2;
export const LIVER_MULTIPLE = 3;

/** An ANC result in cells/uL, from either unit the API takes (10^9/L is a thousand times
 * larger); null for a result without a value. */
export function cellsPerUl(result) {
  if (result.value === null || result.value === undefined) return null;
  return result.unit === '10^9/L' ? result.value * 1000 : result.value;
}
