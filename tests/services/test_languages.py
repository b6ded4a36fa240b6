"""Languages are sets of files (issue 19): every catalogue has every English key and no other,
every translation mirrors English, and the API answers in the reader's language with English
wherever a translation is silent. Text the product stores stays in English."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from server.services.content import ENGLISH, LANGUAGE_TAG, Content
from tests.support.world import World

ROOT = Path(__file__).resolve().parents[2]
CONTENT = Content(ROOT / "content")
I18N = ROOT / "pwa_static" / "i18n"
NAMES = json.loads((I18N / "languages.json").read_text(encoding="utf-8"))
TRANSLATIONS = [tag for tag in CONTENT.languages if tag != ENGLISH]
# every table of content/ (advice.toml holds [advice.*], and so on)
TABLES = {path.name: path.stem for path in sorted((ROOT / "content").glob("*.toml"))}


def _catalogue(code: str) -> dict[str, str]:
    return json.loads((I18N / f"{code}.json").read_text(encoding="utf-8"))


def test_spanish_is_offered_and_every_language_has_its_files() -> None:
    assert "es" in TRANSLATIONS and "es" in NAMES
    catalogues = {path.stem for path in I18N.glob("*.json")} - {"languages"}
    assert set(NAMES) == catalogues, "languages.json names exactly the catalogues there are"
    assert set(CONTENT.languages) <= set(NAMES), "content in a language the app cannot show"
    assert all(LANGUAGE_TAG.fullmatch(code) for code in NAMES)


@pytest.mark.parametrize("code", sorted(set(NAMES) - {ENGLISH}))
def test_a_catalogue_has_every_english_key_and_no_other(code: str) -> None:
    english, other = _catalogue(ENGLISH), _catalogue(code)
    assert sorted(set(english) - set(other)) == [], f"missing in {code}.json"
    assert sorted(set(other) - set(english)) == [], f"in {code}.json but not in English"
    for key, text in english.items():
        placeholders = sorted(part.split("}")[0] for part in text.split("{")[1:])
        theirs = sorted(part.split("}")[0] for part in other[key].split("{")[1:])
        assert placeholders == theirs, f"{code}.json {key}: placeholders differ"


def _used_words() -> tuple[set[str], set[str]]:
    """The catalogue keys the apps and the server name: literal keys, and the prefixes of keys
    made in code (`t(`symptom.${code}`)`, `'band.' + band`)."""
    sources = [
        path
        for folder in ("pwa_static", "server")
        for pattern in ("*.js", "*.html", "*.py")
        for path in (ROOT / folder).rglob(pattern)
        if "node_modules" not in path.parts
    ]
    text = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    literal = set(re.findall(r"""['"`]([A-Za-z]\w*(?:\.[\w-]+)+)['"`]""", text))
    prefixes = set(re.findall(r"""[`'"]([A-Za-z][\w.]*)(?:\$\{|['"]\s*\+)""", text))
    return literal, {prefix for prefix in prefixes if "." in prefix}


def test_every_english_word_is_used() -> None:
    """No word in the catalogue that nothing shows (plurals: `.one`/`.other`; a caregiver's
    wording: `.caregiver` beside the patient's)."""
    literal, prefixes = _used_words()

    def used(key: str) -> bool:
        base = re.sub(r"\.(zero|one|two|few|many|other|caregiver)$", "", key)
        return bool({key, base} & literal) or key.startswith(tuple(prefixes))

    assert [key for key in _catalogue(ENGLISH) if not used(key)] == []


@pytest.mark.parametrize("tag", TRANSLATIONS)
def test_a_translation_mirrors_english_and_adds_no_codes(tag: str) -> None:
    folder = ROOT / "content" / tag
    english_pages = {p.slug: p for p in CONTENT.pages.values()}
    for path in sorted((folder / "guidance").glob("*.md")):
        meta = tomllib.loads(path.read_text(encoding="utf-8").split("+++")[1])
        twin = english_pages.get(meta["slug"])
        assert twin is not None and path.stem == meta["slug"], path
        assert twin.meta["audience"] == "patient", f"{path}: clinician pages stay English"
        assert set(twin.meta) | {"translated_from", "reviewer"} == set(meta), path
        assert meta["translated_from"] == twin.meta["reviewed"], f"{path} is out of date"
    patient_pages = {slug for slug, p in english_pages.items() if p.meta["audience"] == "patient"}
    translated = {path.stem for path in (folder / "guidance").glob("*.md")}
    assert patient_pages == translated, "every patient page is translated"
    for name, table in TABLES.items():
        english = tomllib.loads((ROOT / "content" / name).read_text(encoding="utf-8"))[table]
        other = tomllib.loads((folder / name).read_text(encoding="utf-8"))[table]
        assert set(other) == set(english), f"{tag}/{name}: the same codes as English"
        for code, values in other.items():
            assert set(values) <= set(english[code]), f"{tag}/{name} {code}: keys not in English"


def _placeholders(text: str) -> list[str]:
    return sorted(part.split("}")[0] for part in text.split("{")[1:])


def server_word_problems(root: Path, tag: str) -> list[str]:
    """What the language `tag` lacks or adds in content/documents.toml against English."""
    name = "documents.toml"
    english = tomllib.loads((root / "content" / name).read_text(encoding="utf-8"))["documents"]
    path = root / "content" / tag / name
    if not path.is_file():
        return [f"content/{tag}/{name} is missing"]
    other = tomllib.loads(path.read_text(encoding="utf-8"))["documents"]
    problems = [f"[{output}] missing" for output in sorted(set(english) - set(other))]
    problems += [f"[{output}] not in English" for output in sorted(set(other) - set(english))]
    for output in sorted(set(english) & set(other)):
        words, theirs = english[output], other[output]
        problems += [f"{output}.{key} missing" for key in sorted(set(words) - set(theirs))]
        problems += [f"{output}.{key} not in English" for key in sorted(set(theirs) - set(words))]
        for key in sorted(set(words) & set(theirs)):
            if _placeholders(words[key]) != _placeholders(theirs[key]):
                problems.append(f"{output}.{key}: placeholders differ")
            if not str(theirs[key]).strip():
                problems.append(f"{output}.{key} is empty")
    return problems


@pytest.mark.parametrize("tag", TRANSLATIONS)
def test_the_servers_own_words_are_complete_in_every_language(tag: str) -> None:
    """What the server draws itself (calendar, PDF, email: content/documents.toml) has every
    English key in every language, no other, with the same placeholders: a missing word
    fails here, not on a patient's calendar."""
    assert server_word_problems(ROOT, tag) == []


def test_a_missing_server_word_is_found(tmp_path: Path) -> None:
    """The check above, on a copy of content/ with one Spanish word taken out and one added."""
    import shutil

    shutil.copytree(ROOT / "content", tmp_path / "content")
    path = tmp_path / "content" / "es" / "documents.toml"
    text = path.read_text(encoding="utf-8").replace('blood_test = "Análisis de sangre"\n', "", 1)
    text = text.replace("[documents.email]\n", '[documents.email]\nsigned = "Firmado"\n')
    path.write_text(text.replace("{date}.", "{fecha}.", 1), encoding="utf-8")
    assert server_word_problems(tmp_path, "es") == [
        "calendar.blood_test missing",
        "calendar.blood_test_description: placeholders differ",
        "email.signed not in English",
    ]


def test_the_servers_words_come_in_the_readers_language() -> None:
    spanish = CONTENT.in_language("es")
    assert spanish.words("calendar")["blood_test"] == "Análisis de sangre"
    assert CONTENT.words("calendar")["blood_test"] == "Blood test"
    assert spanish.words("appointment")["review"] == "Revisión con su equipo médico"


def test_a_translation_reads_over_english_key_by_key() -> None:
    spanish = CONTENT.in_language("es")
    assert spanish.advice["fever"]["title"] == "Fiebre"
    # the clinician's note is not translated: English fills it in
    assert spanish.advice["fever"]["clinician"] == CONTENT.advice["fever"]["clinician"]
    assert spanish.advice["fever"]["call_now"] is True
    assert spanish.english is CONTENT and CONTENT.in_language("en") is CONTENT
    page = spanish.pages["pregnancy"]
    assert page.language == "es" and page.awaiting_review
    assert page.listing()["reviewed"] is None
    assert spanish.pages["pregnancy-for-clinicians"].language == ENGLISH
    with pytest.raises(ValueError):
        CONTENT.in_language("xx")


def test_a_reviewed_translation_shows_its_review(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "content", tmp_path / "content")
    path = tmp_path / "content" / "es" / "guidance" / "pregnancy.md"
    text = path.read_text(encoding="utf-8")
    text = text.replace('reviewer = ""', 'reviewer = "Dra. Ejemplo"')
    path.write_text(text.replace('reviewed = ""', 'reviewed = "2026-12-01"'), encoding="utf-8")
    page = Content(tmp_path / "content").in_language("es").pages["pregnancy"]
    assert not page.awaiting_review and page.listing()["reviewed"] == "2026-12-01"


def test_the_api_answers_in_the_readers_language(world: World) -> None:
    spanish = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
    page = world.anonymous.get("/api/guidance/pregnancy", headers=spanish)
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "es"
    assert "Accept-Language" in page.headers["Vary"]
    body = page.get_json()
    assert body["title"] == "Embarazo" and body["language"] == "es"
    assert body["awaiting_review"] is True and body["reviewed"] is None
    assert body["sources"] == CONTENT.pages["pregnancy"].meta["sources"]

    english = world.anonymous.get("/api/guidance/pregnancy", headers={"Accept-Language": "fr"})
    assert english.get_json()["title"] == "Pregnancy"
    assert english.get_json()["awaiting_review"] is False
    assert english.headers["Content-Language"] == "en"

    listing = world.anonymous.get("/api/guidance?audience=patient", headers=spanish).get_json()
    assert {item["language"] for item in listing["items"]} == {"es"}
    catalogue = world.anonymous.get("/api/catalogue", headers=spanish).get_json()
    labels = {item["code"]: item["label"] for item in catalogue["symptoms"]}
    assert labels["fever"] == "Fiebre"
    assert catalogue["advice"]["fever"]["title"] == "Fiebre"
    # the language the app asks for in the URL (a copy kept offline is named by it), over the
    # signed-in person's and the browser's; a language the app does not have is ignored
    asked = world.patient.get("/api/catalogue?lang=es", headers={"Accept-Language": "en"})
    assert asked.headers["Content-Language"] == "es"
    assert {i["code"]: i["label"] for i in asked.get_json()["symptoms"]}["fever"] == "Fiebre"
    unknown = world.anonymous.get("/api/catalogue?lang=xx", headers=spanish)
    assert unknown.headers["Content-Language"] == "es"


def test_a_caregiver_reads_spanish_while_the_care_team_stores_english(world: World) -> None:
    pid = world.patient_id
    reported = world.patient.post(
        f"/api/patients/{pid}/symptoms",
        json={"occurred_at": "2026-01-01T09:00:00Z", "symptoms": ["chest_pain"]},
        headers={"Accept-Language": "es"},
    )
    assert reported.status_code == 201, reported.get_json()
    spanish = world.caregiver.get(f"/api/patients/{pid}", headers={"Accept-Language": "es"})
    flags = spanish.get_json()["open_red_flags"]
    assert [f["title"] for f in flags] == ["Dolor en el pecho"]
    english = world.patient.get(f"/api/patients/{pid}", headers={"Accept-Language": "en"})
    assert [f["title"] for f in english.get_json()["open_red_flags"]] == ["Chest pain"]
    listed = world.clinician.get("/api/escalations").get_json()["escalations"]
    assert [e["summary"].split(":")[0] for e in listed] == ["Chest pain"]


def test_a_page_load_reads_the_language_the_app_chose(world: World) -> None:
    """The signed-in page carries Today's first answers: in the app's chosen language (its
    cookie), and Today is then drawn by the app, not in English by the server."""
    import re

    pid = world.patient_id
    world.patient.post(
        f"/api/patients/{pid}/symptoms",
        json={"occurred_at": "2026-01-01T09:00:00Z", "symptoms": ["chest_pain"]},
    )

    def boot(language: str) -> tuple[dict, str]:
        world.patient.client.set_cookie("companion_lang", language)
        html = world.patient.get("/", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
        found = re.search(r'<script type="application/json" id="boot">(.*?)</script>', html)
        assert found is not None
        return json.loads(found.group(1)), html

    spanish, _ = boot("es")
    flags = spanish["answers"][f"/api/patients/{pid}"]["open_red_flags"]
    assert [f["title"] for f in flags] == ["Dolor en el pecho"]
    english, _ = boot("en")
    flags = english["answers"][f"/api/patients/{pid}"]["open_red_flags"]
    assert [f["title"] for f in flags] == ["Chest pain"]
    unknown, _ = boot("xx")  # a language the product does not have: the browser's
    flags = unknown["answers"][f"/api/patients/{pid}"]["open_red_flags"]
    assert [f["title"] for f in flags] == ["Chest pain"]


# --- each person's own language, kept on the server ----------------------------------------


def test_each_person_chooses_their_language_and_api_me_shows_it(world: World) -> None:
    assert world.caregiver.get("/api/me").get_json()["user"]["language"] is None
    chosen = world.caregiver.put("/api/me/language", json={"language": "es"})
    assert chosen.status_code == 200 and chosen.get_json()["language"] == "es"
    assert world.caregiver.get("/api/me").get_json()["user"]["language"] == "es"
    assert world.patient.get("/api/me").get_json()["user"]["language"] is None  # theirs

    refused = world.caregiver.put("/api/me/language", json={"language": "fr"})
    assert refused.status_code == 422 and "language" in refused.get_json()["error"]["fields"]
    assert world.caregiver.get("/api/me").get_json()["user"]["language"] == "es"
    assert world.anonymous.put("/api/me/language", json={"language": "es"}).status_code == 401
    unsigned = world.caregiver.client.put("/api/me/language", json={"language": "en"})
    assert unsigned.status_code == 403  # no CSRF token
    assert world.caregiver.get("/api/me").get_json()["user"]["language"] == "es"


def test_the_readers_own_language_comes_before_the_browsers(world: World) -> None:
    """A caregiver reads Spanish while the patient reads English, whatever each browser asks."""
    pid = world.patient_id
    world.patient.post(
        f"/api/patients/{pid}/symptoms",
        json={"occurred_at": "2026-01-01T09:00:00Z", "symptoms": ["chest_pain"]},
    )
    world.caregiver.put("/api/me/language", json={"language": "es"})
    world.patient.put("/api/me/language", json={"language": "en"})
    english_browser = {"Accept-Language": "en-GB,en;q=0.9"}
    spanish = world.caregiver.get(f"/api/patients/{pid}", headers=english_browser)
    assert spanish.headers["Content-Language"] == "es"
    assert [f["title"] for f in spanish.get_json()["open_red_flags"]] == ["Dolor en el pecho"]
    english = world.patient.get(f"/api/patients/{pid}", headers={"Accept-Language": "es"})
    assert [f["title"] for f in english.get_json()["open_red_flags"]] == ["Chest pain"]
    world.patient.client.set_cookie("companion_lang", "es")
    page = world.patient.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Chest pain" in page and "Dolor en el pecho" not in page


def test_a_new_login_takes_the_browsers_language(world: World) -> None:
    """At activation, and at a first sign-in of someone who has none yet (a care-team login made
    on the command line); a browser asking for a language we lack leaves it unset."""
    from tests.support.world import PASSWORD, care_team_user, enrol_patient

    made = enrol_patient(world.clinician, "Lucía")
    activated = world.app.test_client().post(
        "/api/activate",
        json={
            "code": made["activation_code"],
            "email": "lucia@example.org",
            "password": PASSWORD,
            "display_name": "Lucía",
        },
        headers={"Accept-Language": "es-MX,es;q=0.9"},
    )
    assert activated.status_code == 201
    client = world.app.test_client()
    signed_in = client.post(
        "/api/session",
        json={"email": "lucia@example.org", "password": PASSWORD},
        headers={"Accept-Language": "en"},  # another browser: her choice stays
    )
    assert signed_in.get_json()["user"]["language"] == "es"

    care_team_user(world.app, "dr.west@example.org", "North clinic")
    first = world.app.test_client().post(
        "/api/session",
        json={"email": "dr.west@example.org", "password": PASSWORD},
        headers={"Accept-Language": "fr-FR,fr;q=0.9"},
    )
    assert first.get_json()["user"]["language"] is None
    again = world.app.test_client().post(
        "/api/session",
        json={"email": "dr.west@example.org", "password": PASSWORD},
        headers={"Accept-Language": "en-US,en;q=0.8"},
    )
    assert again.get_json()["user"]["language"] == "en"
