"""The clinic summary: one to two pages, black and white, for a patient and a date range."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain import AncBandEdge, local_date
from server.models import Dose, Escalation, LabResult, Patient
from server.services import diary, doses, labs
from server.services import state as states
from server.services.content import Content, fill
from server.services.formats import Formats

MAX_RANGE_DAYS = 731
DEFAULT_RANGE_DAYS = 90
TABLE_ROWS = 8
FLAG_ROWS = 8


@dataclass
class ReportData:
    patient: Patient
    start: dt.date
    end: dt.date
    today: dt.date
    plan: dict[str, Any] | None
    weeks: list[dt.date]
    adherence: dict[dt.date, tuple[int, int]]
    bowel: dict[dt.date, list[int]]
    anc: list[tuple[dt.date, float, str | None, str]]
    flags: list[Escalation]
    upcoming: list[tuple[str, dt.date, str]]  # (test, due date, status)
    anc_edges: tuple[AncBandEdge, ...]  # the bands the ANC is read with (labs.band_edges)
    notes: list[str] = field(default_factory=list)


def default_range(patient: Patient, now: dt.datetime) -> tuple[dt.date, dt.date]:
    today = states.today_for(patient, now)
    return today - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1), today


def _week(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _bounds(patient: Patient, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of the local range [start 00:00, end+1 00:00), with a day of slack
    each side; rows are then filtered on their local date."""
    lo = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=2), dt.time(), dt.UTC)
    return lo, hi


def gather(
    session: Session, patient: Patient, start: dt.date, end: dt.date, now: dt.datetime
) -> ReportData:
    """Read everything the summary shows, in a handful of queries."""
    tz = patient.timezone
    today = states.today_for(patient, now)
    lo, hi = _bounds(patient, start, end)
    weeks = []
    week = _week(start)
    while week <= end:
        weeks.append(week)
        week += dt.timedelta(days=7)

    adherence: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    rows = session.execute(
        doses.of_dates(patient, start, end).where(Dose.scheduled_at <= now)
    ).all()
    for day, status, _at in rows:
        counts = adherence[_week(day)]
        counts[1] += 1
        if status == "taken":
            counts[0] += 1

    bowel: dict[dt.date, list[int]] = defaultdict(list)
    for at, bristol in session.execute(diary.bowel_movements_between(patient, lo, hi)).all():
        day = local_date(at, tz)
        if start <= day <= end:
            bowel[_week(day)].append(bristol)

    anc = []
    for result in session.scalars(
        select(LabResult)
        .where(
            LabResult.patient_id == patient.id,
            LabResult.test == "anc",
            LabResult.collected_at >= lo,
            LabResult.collected_at < hi,
        )
        .order_by(LabResult.collected_at)
    ):
        day = local_date(result.collected_at, tz)
        if start <= day <= end and result.normalised_value is not None:
            band = (result.interpretation or {}).get("band")
            anc.append((day, result.normalised_value, band, result.source))

    flags = list(
        session.scalars(
            select(Escalation)
            .where(
                Escalation.patient_id == patient.id,
                Escalation.opened_at < hi,
                (Escalation.resolved_at.is_(None)) | (Escalation.resolved_at >= lo),
            )
            .order_by(Escalation.opened_at.desc())
        )
    )

    plan_row = states.active_plan(session, patient.id, min(today, end)) or states.latest_plan(
        session, patient.id
    )
    plan = None
    if plan_row is not None:
        on = max(plan_row.start_date, min(today, end))
        mg = states.doses_on(plan_row, on)
        plan = {
            "version": plan_row.version,
            "kind": plan_row.kind,
            "start_date": plan_row.start_date,
            "target": plan_row.target_mg_per_day,
            "on": on,
            "doses": list(zip(plan_row.times, mg, strict=False)),
            "maintenance_from": states.stable_dose_since(plan_row),
            "status": states.treatment_status(session, patient, now),
        }
    upcoming: list[tuple[str, dt.date, str]] = [
        (item.test, item.due_date, str(item.status))
        for item in states.schedule(session, patient, now)
    ]
    return ReportData(
        patient=patient,
        start=start,
        end=end,
        today=today,
        plan=plan,
        weeks=weeks,
        adherence={k: (v[0], v[1]) for k, v in adherence.items()},
        bowel=dict(bowel),
        anc=anc,
        flags=flags,
        upcoming=upcoming,
        anc_edges=labs.band_edges(patient),
    )


# CLDR puts no-break spaces in times and percentages (9:00\u202fAM, 93\u00a0%)
SPACES = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " "})


def latin(text: str) -> str:
    """The core PDF fonts cover Latin-1 only: anything else is shown as '?'."""
    return text.translate(SPACES).encode("latin-1", "replace").decode("latin-1")


class Words:
    """The summary's words in the reader's language (content/documents.toml, [documents.report])
    and its dates and numbers in CLDR's formats for the reader."""

    def __init__(self, content: Content, formats: Formats) -> None:
        self.content = content
        self.text = content.words("report")
        self.formats = formats

    def __call__(self, key: str, **values: object) -> str:
        return fill(self.text[key], **values)

    def code(self, prefix: str, code: str) -> str:
        """A code's word (kind_taper, band_mild, ...), the code itself where there is none."""
        return self.text.get(f"{prefix}_{code}", code.replace("_", " "))

    def date(self, day: dt.date) -> str:
        return self.formats.date(day)

    def number(self, value: float) -> str:
        return self.formats.number(value)

    def rule(self, code: str) -> str:
        """A red flag's name: its advice title (translated), else the code."""
        advice = self.content.advice.get(code)
        return str(advice["title"]) if advice else code.replace("_", " ")


class SummaryPdf(FPDF):
    def __init__(self, title: str, words: Words) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.title_text = title
        self.words = words
        self.set_margins(14, 12, 14)
        self.set_auto_page_break(auto=True, margin=14)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", "", 7)
        self.cell(0, 4, latin(fill(self.title_text, page=self.page_no())), align="C")

    def heading(self, text: str) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(2)
        self.set_font("Helvetica", "B", 11)
        self.cell(0, 6, latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1)
        self.set_font("Helvetica", "", 8.5)

    def line_text(self, text: str, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 8.5)
        self.multi_cell(0, 4.2, latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(self, widths: Sequence[float], cells: list[str], bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 8)
        for width, text in zip(widths, cells, strict=True):
            self.cell(width, 4.2, latin(text)[:70], border="B" if bold else 0)
        self.ln(4.2)


def _bars(
    pdf: SummaryPdf,
    values: list[tuple[dt.date, float | None]],
    top: float,
    label: str,
    height: float = 22,
) -> None:
    """A plain bar chart (outlined bars, no colour) of one value per week."""
    x0, width = pdf.l_margin + 10, pdf.w - pdf.l_margin - pdf.r_margin - 10
    y0 = pdf.get_y() + 2
    pdf.set_font("Helvetica", "", 6.5)
    pdf.set_xy(pdf.l_margin, y0 - 1)
    pdf.cell(10, 3, pdf.words.number(top))
    pdf.set_xy(pdf.l_margin, y0 + height - 3)
    pdf.cell(10, 3, "0")
    pdf.line(x0, y0 + height, x0 + width, y0 + height)
    pdf.line(x0, y0, x0, y0 + height)
    step = width / max(len(values), 1)
    for index, (_week_start, value) in enumerate(values):
        if value is None:
            continue
        bar = height * min(value, top) / top if top else 0
        pdf.rect(x0 + index * step + step * 0.15, y0 + height - bar, step * 0.7, bar, style="D")
    if values:
        pdf.set_xy(x0, y0 + height + 0.5)
        pdf.cell(width / 2, 3, latin(pdf.words.date(values[0][0])))
        pdf.set_xy(x0 + width / 2, y0 + height + 0.5)
        last = pdf.words("chart_week", date=pdf.words.date(values[-1][0]))
        pdf.cell(width / 2, 3, latin(f"{label}   {last}"), align="R")
    pdf.set_y(y0 + height + 5)


def _band_words(words: Words, edges: Sequence[AncBandEdge]) -> str:
    """The patient's bands in words, highest first: "normal >= 1,500, ..., severe < 500"."""
    parts = []
    for above, edge in zip((None, *edges), edges, strict=False):
        band = words.code("band", edge.band)
        if above is not None and edge.min_cells_per_ul == 0:  # the last: below the one above
            value = words.number(above.min_cells_per_ul)
            parts.append(words("anc_band_below", band=band, value=value))
        else:
            value = words.number(edge.min_cells_per_ul)
            parts.append(words("anc_band_from", band=band, value=value))
    return ", ".join(parts)


def _anc_chart(pdf: SummaryPdf, data: ReportData, height: float = 38) -> None:
    """ANC over the range: solid line with square markers, dashed lines where the patient's
    bands begin (the clinic's profile, BEN's table where it has one), each named for the band
    above it."""
    x0, width = pdf.l_margin + 12, pdf.w - pdf.l_margin - pdf.r_margin - 12
    y0 = pdf.get_y() + 2
    lines = [(e.min_cells_per_ul, e.band) for e in data.anc_edges if e.min_cells_per_ul > 0]
    # room above the highest line (twice its height), or above the highest count
    top = max([1.0] + [2 * value for value, _ in lines] + [v for _, v, _, _ in data.anc]) * 1.1
    span = max((data.end - data.start).days, 1)

    def xy(day: dt.date, value: float) -> tuple[float, float]:
        return x0 + width * (day - data.start).days / span, y0 + height * (
            1 - min(value, top) / top
        )

    pdf.set_line_width(0.2)
    pdf.rect(x0, y0, width, height, style="D")
    pdf.set_font("Helvetica", "", 6.5)
    for value, band in lines:
        _, y = xy(data.start, value)
        pdf.set_dash_pattern(dash=1.2, gap=1.2)
        pdf.line(x0, y, x0 + width, y)
        pdf.set_dash_pattern()
        pdf.set_xy(pdf.l_margin - 1, y - 1.5)
        pdf.cell(13, 3, latin(pdf.words.number(value)))
        pdf.set_xy(x0 + width - 22, y - 3.2)
        pdf.cell(22, 3, latin(pdf.words.code("band", band)), align="R")
    points = [xy(day, value) for day, value, _, _ in data.anc]
    pdf.set_line_width(0.45)
    if len(points) > 1:
        pdf.polyline(points)
    for x, y in points:
        pdf.rect(x - 0.8, y - 0.8, 1.6, 1.6, style="F")
    pdf.set_line_width(0.2)
    pdf.set_xy(x0, y0 + height + 0.5)
    pdf.cell(width / 2, 3, latin(pdf.words.date(data.start)))
    pdf.set_xy(x0 + width / 2, y0 + height + 0.5)
    end = pdf.words.date(data.end)
    pdf.cell(width / 2, 3, latin(f"{pdf.words('anc_unit')}   {end}"), align="R")
    pdf.set_y(y0 + height + 5)


def render(
    data: ReportData, generated_at: dt.datetime, words: Words, compress: bool = True
) -> bytes:
    """The summary as PDF bytes, in the words and formats of `words`. What the care team
    wrote (an escalation's summary, a resolution note) is shown as written."""
    patient, w, day = data.patient, words, words.date
    title = w("title")
    pdf = SummaryPdf(w("footer", title=title, name=patient.display_name), words)
    pdf.set_compression(compress)
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 7, latin(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.line_text(
        w(
            "header",
            name=patient.display_name,
            clinic=patient.clinic.name,
            date=day(patient.clozapine_start_date),
        ),
        bold=True,
    )
    pdf.line_text(
        w(
            "period",
            start=day(data.start),
            end=day(data.end),
            made=w.formats.moment(generated_at, "UTC"),
            patient=f"({w.code('source', 'patient')})",
            caregiver=f"({w.code('source', 'caregiver')})",
        )
    )

    pdf.heading(w("plan_heading"))
    if data.plan is None:
        pdf.line_text(w("no_plan"))
    else:
        plan = data.plan
        doses = ", ".join(
            w("dose", mg=w.number(mg), time=t) for t, mg in plan["doses"] if mg > 0
        ) or w("no_doses")
        total = sum(mg for _, mg in plan["doses"])
        pdf.line_text(
            w(
                "plan",
                version=plan["version"],
                kind=w.code("kind", plan["kind"]),
                date=day(plan["start_date"]),
                status=w.code("state", plan["status"]),
            )
        )
        pdf.line_text(w("doses", date=day(plan["on"]), doses=doses, total=w.number(total)))
        if plan["target"]:
            maintenance = plan["maintenance_from"]
            target = w.number(plan["target"])
            if maintenance:
                pdf.line_text(w("target_from", mg=target, date=day(maintenance)))
            else:
                pdf.line_text(w("target", mg=target))

    pdf.heading(w("adherence_heading"))
    taken = sum(t for t, _ in data.adherence.values())
    scheduled = sum(s for _, s in data.adherence.values())
    overall = w.formats.percent(taken / scheduled) if scheduled else w("no_doses_planned")
    pdf.line_text(w("adherence_total", taken=taken, scheduled=scheduled, share=overall))
    if len(data.weeks) > TABLE_ROWS:
        _bars(
            pdf,
            [
                (wk, 100 * data.adherence[wk][0] / data.adherence[wk][1])
                if data.adherence.get(wk, (0, 0))[1]
                else (wk, None)
                for wk in data.weeks
            ],
            100,
            w("share_taken"),
        )
    widths = [36, 30, 30, 20]
    pdf.row(widths, [w("week_of"), w("taken"), w("scheduled"), "%"], bold=True)
    for week in data.weeks[-TABLE_ROWS:]:
        t, s = data.adherence.get(week, (0, 0))
        share = w.number(round(100 * t / s)) if s else "-"
        pdf.row(widths, [day(week), str(t), str(s), share])

    pdf.heading(w("anc_heading", bands=_band_words(w, data.anc_edges)))
    if not data.anc:
        pdf.line_text(w("no_anc"))
    else:
        _anc_chart(pdf, data)
        widths = [36, 34, 30, 30]
        pdf.row(widths, [w("collected"), w("anc_unit"), w("band"), w("source")], bold=True)
        for on, value, band, source in data.anc[-TABLE_ROWS:]:
            cells = [day(on), w.number(value), w.code("band", band) if band else "-"]
            pdf.row(widths, [*cells, w.code("source", source)])
        if len(data.anc) > TABLE_ROWS:
            pdf.line_text(w("anc_latest", shown=TABLE_ROWS, total=len(data.anc)))

    pdf.heading(w("bowel_heading"))
    counts = Counter(t for types in data.bowel.values() for t in types)
    logged = ", ".join(
        w("bristol_count", type=t, count=counts[t]) for t in range(1, 8) if counts[t]
    )
    pdf.line_text(w("bowel_total", counts=logged or w("none_logged")))
    if len(data.weeks) > TABLE_ROWS:
        top = max([7] + [len(v) for v in data.bowel.values()])
        per_week: list[tuple[dt.date, float | None]] = [
            (wk, float(len(data.bowel.get(wk, [])))) for wk in data.weeks
        ]
        _bars(pdf, per_week, top, w("per_week"))
    widths = [36, 24, 90]
    pdf.row(widths, [w("week_of"), w("count"), w("bristol_types")], bold=True)
    for week in data.weeks[-TABLE_ROWS:]:
        types = sorted(data.bowel.get(week, []))
        pdf.row(widths, [day(week), str(len(types)), " ".join(map(str, types)) or "-"])

    pdf.heading(w("flags_heading"))
    if not data.flags:
        pdf.line_text(w("no_flags"))
    for flag in data.flags[:FLAG_ROWS]:
        if flag.status == "resolved" and flag.resolved_at is not None:
            closed = w("resolved", date=day(flag.resolved_at.date()))
            if flag.resolution_note:
                closed += f": {flag.resolution_note}"
        elif flag.status == "acknowledged" and flag.acknowledged_at is not None:
            closed = w("acknowledged", date=day(flag.acknowledged_at.date()))
        else:
            closed = w("open")
        pdf.line_text(
            f"{day(flag.opened_at.date())} [{w.code('severity', flag.severity)}] "
            f"{w.rule(flag.rule)}: {flag.summary} -> {closed}"
        )
    if len(data.flags) > FLAG_ROWS:
        pdf.line_text(w("flags_more", count=len(data.flags) - FLAG_ROWS))

    pdf.heading(w("upcoming_heading"))
    if not data.upcoming:
        pdf.line_text(w("nothing_scheduled"))
    widths = [50, 36, 30]
    if data.upcoming:
        pdf.row(widths, [w("test"), w("due"), w("status")], bold=True)
    for test, due, status in data.upcoming:
        pdf.row(widths, [w.code("test", test), day(due), w.code("due", status)])
    return bytes(pdf.output())


def build_report(
    session: Session,
    patient: Patient,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    *,
    content: Content,
    formats: Formats | None = None,
    compress: bool = True,
) -> bytes:
    """The clinic summary PDF for a patient and a local date range, in `content`'s language
    (dates and numbers in `formats`, by default that language's)."""
    words = Words(content, formats or Formats(content.language))
    return render(gather(session, patient, start, end, now), now, words, compress=compress)
