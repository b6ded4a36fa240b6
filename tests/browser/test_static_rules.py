"""Rules of the app's source that need no browser: every string the code asks for is in the
English catalogue, pages build DOM without innerHTML, and the HTML has no inline script or style
(the Content-Security-Policy would block them)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "pwa_static"
STRINGS = json.loads((APP / "i18n" / "en.json").read_text(encoding="utf-8"))
SOURCES = sorted((APP / "js").rglob("*.js"))

# keys the code builds from a value (t(`dose.status.${status}`)): every value it can have
BUILT_KEYS = {
    "dose.status": ["pending", "taken", "skipped", "missed", "withheld"],
    "severity": ["emergency", "urgent", "routine"],
    "push.state": ["on", "off", "denied", "needs-install", "unsupported", "working", "error"],
    "settings.size": ["standard", "large", "largest"],
    "skip.reason": ["unwell", "ranOut", "told", "other"],
    "band": ["normal", "mild", "moderate", "severe"],
    "blood.status": ["upcoming", "due", "overdue"],
    "symptom.group": ["warning", "other", "changes"],
    "history": [
        *["doses", "bowel", "symptoms", "blood"],
        *["dosesHint", "bowelHint", "symptomsHint", "bloodHint"],
    ],
}  # fmt: skip


def test_every_static_key_is_in_the_english_catalogue() -> None:
    missing = []
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        for key in re.findall(r"\bt\('([\w.-]+)'", text):
            if key not in STRINGS:
                missing.append(f"{source.name}: {key}")
        for key in re.findall(r"\btn\('([\w.-]+)'", text):
            for form in ("one", "other"):
                if f"{key}.{form}" not in STRINGS:
                    missing.append(f"{source.name}: {key}.{form}")
    for key in re.findall(r'data-i18n="([\w.-]+)"', (APP / "index.html").read_text()):
        if key not in STRINGS:
            missing.append(f"index.html: {key}")
    assert missing == []


@pytest.mark.parametrize("prefix", sorted(BUILT_KEYS))
def test_every_built_key_is_in_the_english_catalogue(prefix: str) -> None:
    missing = [f"{prefix}.{v}" for v in BUILT_KEYS[prefix] if f"{prefix}.{v}" not in STRINGS]
    assert missing == []


def test_contract_labels() -> None:
    # the symptoms' labels are the server's catalogue's: tests/services/test_content.py
    assert STRINGS["bristol.label"] == "Type {type}"
    assert STRINGS["today.doses"] == "Today's doses"
    assert STRINGS["dose.taken"] == "Taken"
    assert STRINGS["today.logBowel"] == "Log bowel movement"
    assert STRINGS["today.reportSymptom"] == "Report a symptom"
    assert STRINGS["signin.email"] == "Email"
    assert STRINGS["signin.password"] == "Password"
    assert STRINGS["signin.submit"] == "Sign in"


def test_no_inner_html_anywhere() -> None:
    offenders = [
        source.name
        for source in [*SOURCES, APP / "sw.js"]
        if re.search(
            r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", source.read_text()
        )
    ]
    assert offenders == []


@pytest.mark.parametrize("page", ["index.html", "offline.html"])
def test_no_inline_script_or_style(page: str) -> None:
    html = (APP / page).read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert not re.search(r'(src|href)="(https?:)?//', html), "external request"


def test_no_style_attribute_set_from_scripts() -> None:
    offenders = [
        s.name for s in SOURCES if re.search(r"\.style\.|'style'|\"style\"", s.read_text())
    ]
    assert offenders == []


def _shell_version_module():  # scripts/ is not a package: load the script as a module
    import importlib.util

    path = APP.parent / "scripts" / "shell_version.py"
    spec = importlib.util.spec_from_file_location("shell_version", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shell_cache_is_renamed_whenever_a_shell_file_changes() -> None:
    shell = _shell_version_module()
    source = (APP / "sw.js").read_text(encoding="utf-8")
    assert shell.current_version(source) == shell.shell_version(source), (
        "a file of the service worker's SHELL changed but its cache name did not: phones would "
        "keep the old app. Run `.venv/bin/python scripts/shell_version.py --write`."
    )


def test_the_fingerprint_follows_every_byte_of_the_shell(tmp_path: Path) -> None:
    import shutil

    shell = _shell_version_module()
    copy = tmp_path / "pwa_static"
    shutil.copytree(APP, copy)
    source = (copy / "sw.js").read_text(encoding="utf-8")
    before = shell.shell_version(source, copy)
    for url in ("/", "/static/css/app.css", "/static/js/views/today.js"):
        path = shell.shell_file(url, copy)
        original = path.read_bytes()
        path.write_bytes(original + b" ")
        assert shell.shell_version(source, copy) != before, url
        path.write_bytes(original)
    assert shell.shell_version(source, copy) == before


def test_the_shell_lists_every_file_of_the_patient_app() -> None:
    shell = _shell_version_module()
    listed = {shell.shell_file(url) for url in shell.shell_paths((APP / "sw.js").read_text())}
    assert all(path.is_file() for path in listed), sorted(p for p in listed if not p.is_file())
    app_files = {
        path for folder in ("js", "css") for path in (APP / folder).rglob("*") if path.is_file()
    }
    # the words: English (every other language falls back to it) and the list of languages;
    # another language's file is cached when first read, so adding one changes no code
    app_files |= {APP / "i18n" / "en.json", APP / "i18n" / "languages.json"}
    assert app_files - listed == set(), "files the app loads offline but the shell does not cache"


def test_screens_never_reach_back_into_the_router() -> None:
    """app.js routes and hands each screen what it may ask of the app (go, refresh, flushNow,
    afterSignIn, applyTextSize); a screen importing app.js would make a cycle."""
    importing = [
        path.relative_to(APP).as_posix()
        for path in (APP / "js").rglob("*.js")
        if path.name != "app.js" and re.search(r"""['"][./]*app\.js['"]""", path.read_text())
    ]
    assert importing == []


def _js_constant(source: str, name: str) -> object:
    found = re.search(rf"^export const {name} = (.+);$", source, re.MULTILINE)
    assert found is not None, f"js/clinical.js has no {name}"
    return json.loads(found.group(1).replace("'", '"'))  # a JS string list reads as JSON


def test_the_apps_clinical_figures_are_the_servers() -> None:
    """js/clinical.js holds the figures of the rules the phone needs offline; each must be the
    server's own (RULES.md 1 tablet strengths, RULES.md 4 fever)."""
    from server.domain.red_flags import (
        BOWEL_FLAG_AFTER,
        BOWEL_PROMPT_AFTER,
        FEVER_C,
        MAX_PLAUSIBLE_C,
        MIN_PLAUSIBLE_C,
    )
    from server.domain.tablets import TABLET_STRENGTHS_MG
    from server.domain.treatment import RETITRATION_AFTER

    def hours(span: dt.timedelta) -> float:
        return span.total_seconds() / 3600

    source = (APP / "js" / "clinical.js").read_text(encoding="utf-8")
    assert _js_constant(source, "TABLET_STRENGTHS_MG") == list(TABLET_STRENGTHS_MG)
    assert _js_constant(source, "FEVER_C") == FEVER_C
    assert _js_constant(source, "PLAUSIBLE_C") == [MIN_PLAUSIBLE_C, MAX_PLAUSIBLE_C]
    from server.domain.codes import SEVERITIES, severity_rank

    assert _js_constant(source, "SEVERITIES") == sorted(SEVERITIES, key=severity_rank)[::-1]
    assert _js_constant(source, "BOWEL_PROMPT_HOURS") == hours(BOWEL_PROMPT_AFTER)
    assert _js_constant(source, "BOWEL_FLAG_HOURS") == hours(BOWEL_FLAG_AFTER)
    assert _js_constant(source, "RETITRATION_AFTER_HOURS") == hours(RETITRATION_AFTER)
    from server.domain import signals

    for name in (
        "LEVEL_HIGH_NG_ML",
        "LEVEL_TARGET_NG_ML",
        "CRP_HIGH_MG_L",
        "CRP_RAISED_MG_L",
        "TROPONIN_HIGH_MULTIPLE",
        "LIVER_MULTIPLE",
    ):
        assert _js_constant(source, name) == getattr(signals, name), name
    # the care team's words for a marker's reading take these figures, not figures of their own
    care_words = json.loads((APP / "care" / "i18n" / "en.json").read_text(encoding="utf-8"))
    findings = {key: text for key, text in care_words.items() if key.startswith("finding.")}
    assert findings and not [key for key, text in findings.items() if re.search(r"\d", text)]
    # and no other module of either app writes them again
    for path in sorted(APP.rglob("*.js")):
        if path.name == "clinical.js" or "node_modules" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\[\s*12\.5,\s*25,\s*50,\s*100,\s*200\s*\]", text), path
        assert not re.search(r"const (TABLET_)?STRENGTHS|const FEVER|PLAUSIBLE_C =", text), path
        assert not re.search(r"(<|>|<=|>=) ?(30|45|86|113)\b", text), path
        assert not re.search(r"emergency: ?\d", text), path  # a severity order of its own


def test_the_snooze_choices_are_the_servers() -> None:
    """Today offers the minutes the API takes (server/domain/dose_reminders.py), each with its
    words; a notification's "Snooze" asks for one of them."""
    from server.domain.dose_reminders import SNOOZE_MINUTES

    today = (APP / "js" / "views" / "today.js").read_text(encoding="utf-8")
    offered = re.search(r"^const SNOOZE_MINUTES = (\[.*\]);$", today, re.MULTILINE)
    assert offered is not None and json.loads(offered.group(1)) == list(SNOOZE_MINUTES)
    assert [m for m in SNOOZE_MINUTES if f"dose.snoozeIn{m}" not in STRINGS] == []
    worker = (APP / "sw.js").read_text(encoding="utf-8")
    asked = re.findall(r"/snooze`, \{ minutes: (\d+) \}", worker)
    assert asked and all(int(m) in SNOOZE_MINUTES for m in asked)


def test_the_skip_reasons_are_the_servers() -> None:
    """Today's reasons for a skipped dose send the codes the domain reads (ran_out tells the
    care team: server/domain/supply.py)."""
    from server.domain.supply import SKIP_REASONS

    today = (APP / "js" / "views" / "today.js").read_text(encoding="utf-8")
    codes = re.search(r"^const REASON_CODES = \{(.*)\};$", today, re.MULTILINE)
    assert codes is not None
    assert set(re.findall(r"'(\w+)'", codes.group(1))) == set(SKIP_REASONS)


def test_the_patient_app_leaves_the_symptoms_to_the_servers_catalogue() -> None:
    """Which symptoms are offered, which are warning signs alone or in pairs, how severe and
    what advice each brings come from /api/catalogue (the phone's copy, or the service worker's
    from install): no module of the app lists symptom codes again. Named: the changes in life,
    asked apart from the symptoms, and fever, which a temperature from FEVER_C counts as (as
    the domain's classify_symptoms reads it)."""
    from server.domain import SYMPTOM_CODES

    allowed = {"pregnant", "breastfeeding", "stopped_smoking", "started_smoking"}
    allowed |= {"switched_to_ecig", "fever"}
    named = {
        code
        for source in [*SOURCES, APP / "sw.js", APP / "index.html"]
        for code in SYMPTOM_CODES
        if re.search(rf"""['"]{code}['"]""", source.read_text(encoding="utf-8"))
    }
    assert named <= allowed, sorted(named - allowed)
