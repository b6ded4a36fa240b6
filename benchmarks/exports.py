"""Time to build the clinic summary PDF and the FHIR bundle for a patient with two years of data.

Issue 7, "Measured": target under 1 s each. A fresh database (SQLite in a temporary folder, or
the PostgreSQL database named by `--pg-url`, which is emptied first) is migrated, then filled
directly through the models with two years of a patient's life: two doses a day (about 1,460,
95% taken, the rest skipped), a bowel movement most days, weekly then monthly ANC results with
WBC, weekly weights, a temperature every fortnight and a red flag a month. Each export is built
`--repeat` times in-process (service call only, no HTTP) and the median and worst are printed,
with the PDF's page count and the bundle's resource count.

    .venv/bin/python -m benchmarks.exports [--repeat 5] [--pg-url postgresql://...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from pypdf import PdfReader
from sqlalchemy import text

from server import create_app
from server.domain import dose_instants, interpret_anc, load_profile
from server.extensions import db
from server.models import (
    BowelMovement,
    Clinic,
    Dose,
    DosePlan,
    Escalation,
    LabResult,
    Patient,
    SymptomReport,
    User,
    Weight,
)
from server.services.exports import fhir, report

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
DAYS = 730
TARGET_S = 1.0
NO_LOGIN = "!"  # a hash no password matches
PROFILE = "guideline"  # the clinic's monitoring profile


def config(url: str, instance: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(instance),
        "ENVIRON": {},
        "SECRET_KEY": "bench",
        "RATELIMIT_STORAGE_URI": "memory://",
        "CLOCK": lambda: NOW,
    }


def fill() -> Patient:
    """One patient with two years of records, written straight through the models."""
    rng = random.Random(7)
    session = db.session
    start = (NOW - dt.timedelta(days=DAYS)).date()
    clinic = Clinic(name="Bench clinic", monitoring_profile=PROFILE, settings={}, created_at=NOW)
    session.add(clinic)
    session.flush()
    clinician = User(
        email="bench@example.org",
        display_name="Dr Bench",
        role="clinician",
        password_hash=NO_LOGIN,
        clinic_id=clinic.id,
        created_at=NOW,
    )
    session.add(clinician)
    session.flush()
    patient = Patient(
        clinic_id=clinic.id,
        display_name="Bench Patient",
        timezone="Europe/London",
        clozapine_start_date=start,
        created_at=NOW,
    )
    session.add(patient)
    session.flush()
    steps = [{"day": d, "doses_mg": [12.5 * d, 12.5 * d]} for d in range(1, 13)]
    plan = DosePlan(
        patient_id=patient.id,
        version=1,
        start_date=start,
        times=["08:00", "21:00"],
        steps=steps,
        kind="initiation",
        generator="custom",
        target_mg_per_day=300,
        created_by_id=clinician.id,
        created_at=NOW - dt.timedelta(days=DAYS),
    )
    session.add(plan)
    session.flush()
    doses, bowels, labs, weights, reports, flags = [], [], [], [], [], []
    for offset in range(DAYS):
        day = start + dt.timedelta(days=offset)
        mg = 12.5 * min(offset + 1, 12)
        for time_, instant in zip(
            plan.times, dose_instants(day, plan.times, "Europe/London"), strict=True
        ):
            taken = rng.random() < 0.95
            doses.append(
                Dose(
                    patient_id=patient.id,
                    plan_id=plan.id,
                    local_date=day,
                    local_time=time_,
                    scheduled_at=instant,
                    mg=mg,
                    status="taken" if taken else "skipped",
                    status_at=instant + dt.timedelta(minutes=10),
                )
            )
        at = dt.datetime.combine(day, dt.time(7, 30), dt.UTC)
        if rng.random() < 0.8:
            bowels.append(
                BowelMovement(
                    patient_id=patient.id,
                    occurred_at=at,
                    bristol_type=rng.randint(1, 7),
                    recorded_by_id=clinician.id,
                    recorded_at=at,
                )
            )
        if offset % (7 if offset < 126 else 28) == 0:
            value = rng.choice([1200, 1800, 2400, 3100, 4000])
            labs.append(
                LabResult(
                    patient_id=patient.id,
                    test="anc",
                    value=value,
                    unit="cells/uL",
                    normalised_value=value,
                    wbc_10e9_l=round(value / 400, 1),
                    collected_at=at,
                    source="clinic",
                    interpretation={
                        "band": interpret_anc(value, ben=False, profile=load_profile(PROFILE)).band
                    },
                    recorded_by_id=clinician.id,
                    recorded_at=at,
                )
            )
        if offset % 7 == 3:
            weights.append(
                Weight(
                    patient_id=patient.id,
                    measured_at=at,
                    kg=80 + offset / 100,
                    recorded_by_id=clinician.id,
                    recorded_at=at,
                )
            )
        if offset % 14 == 5:
            reports.append(
                SymptomReport(
                    patient_id=patient.id,
                    occurred_at=at,
                    symptoms=["sedation"],
                    temperature_c=36.8,
                    red_flags=[],
                    recorded_by_id=clinician.id,
                    recorded_at=at,
                )
            )
        if offset % 30 == 10:
            flags.append(
                Escalation(
                    patient_id=patient.id,
                    clinic_id=clinic.id,
                    rule=f"bench_{offset}",
                    severity="urgent",
                    status="resolved" if offset < DAYS - 40 else "open",
                    summary="No bowel movement for 72 hours",
                    evidence=[],
                    opened_at=at,
                    resolved_at=at + dt.timedelta(days=1) if offset < DAYS - 40 else None,
                    resolution_note="Laxative started" if offset < DAYS - 40 else None,
                )
            )
    session.add_all(doses + bowels + labs + weights + reports + flags)
    session.commit()
    print(
        f"data: {len(doses)} doses, {len(bowels)} bowel movements, {len(labs)} ANC results, "
        f"{len(weights)} weights, {len(reports)} temperatures, {len(flags)} red flags"
    )
    return patient


def timed(label: str, repeat: int, build) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        db.session.expire_all()
        began = time.perf_counter()
        result = build()
        times.append(time.perf_counter() - began)
        db.session.rollback()
    median, worst = statistics.median(times), max(times)
    verdict = "ok" if median < TARGET_S else "OVER TARGET"
    print(f"{label:<12} median {median * 1000:7.1f} ms   worst {worst * 1000:7.1f} ms   {verdict}")
    return median, worst, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-url", help="postgresql+psycopg://... (emptied first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.pg_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app(config(url, Path(folder)))
        with app.app_context():
            if args.pg_url:
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
            upgrade()
            patient = fill()
            backend = db.engine.dialect.name
            print(f"backend: {backend}; {args.repeat} runs each")
            start = (NOW - dt.timedelta(days=DAYS - 1)).date()
            end = NOW.date()
            words = app.extensions["companion.content"]
            pdf_median, _, pdf = timed(
                "PDF",
                args.repeat,
                lambda: report.build_report(db.session, patient, start, end, NOW, content=words),
            )
            fhir_median, _, bundle = timed(
                "FHIR bundle", args.repeat, lambda: fhir.patient_bundle(db.session, patient, NOW)
            )
            pages = len(PdfReader(io.BytesIO(pdf)).pages)  # type: ignore[arg-type]
            print(f"PDF: {len(pdf) / 1024:.0f} KiB, {pages} pages")  # type: ignore[arg-type]
            print(f"FHIR bundle: {len(bundle['entry'])} resources")  # type: ignore[index]
            db.session.remove()
            db.engine.dispose()
    ok = pdf_median < TARGET_S and fhir_median < TARGET_S and 1 <= pages <= 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
