"""The app's files as answers (server/assets.py): the best coding a browser takes, the whole body
with its length, a validator per version and coding, and nothing outside the app's folder."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import brotli
import pytest
from flask import Flask

SCRIPT = "export const words = '" + "Take your dose with water. " * 200 + "';\n"
CATALOGUE = '{"today.title": "Today", "dose.taken": "Taken"}' * 40


@pytest.fixture
def files(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "pwa_static"
    (folder / "js").mkdir(parents=True)
    (folder / "icons").mkdir()
    (folder / "js" / "words.js").write_text(SCRIPT)
    (folder / "catalogue.json").write_text(CATALOGUE)
    (folder / "icons" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp_path / "secret.txt").write_text("not the app's")
    app.config["STATIC_APP_DIR"] = str(folder)
    return folder


@pytest.mark.parametrize(
    ("accepted", "coding"),
    [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"), (None, None)],
)
def test_a_file_comes_in_the_best_coding_the_browser_takes(
    app: Flask, files: Path, accepted: str | None, coding: str | None
) -> None:
    headers = {"Accept-Encoding": accepted} if accepted else {}
    answer = app.test_client().get("/static/js/words.js", headers=headers)
    assert answer.status_code == 200
    assert answer.headers.get("Content-Encoding") == coding
    assert answer.mimetype == "text/javascript"
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert answer.headers["Cache-Control"] == "no-cache"
    body = answer.get_data()
    # sent whole, with its length (no chunks)
    assert int(answer.headers["Content-Length"]) == len(body)
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda data: data}[coding]
    assert decode(body).decode() == SCRIPT
    if coding:
        assert len(body) < len(SCRIPT) / 5


def test_a_browser_that_has_the_file_gets_a_304_until_it_changes(app: Flask, files: Path) -> None:
    client = app.test_client()
    first = client.get("/static/catalogue.json", headers={"Accept-Encoding": "br"})
    tag = first.headers["ETag"]
    # one validator per coding: a gzip copy is not the brotli one
    gzip_tag = client.get("/static/catalogue.json", headers={"Accept-Encoding": "gzip"}).headers[
        "ETag"
    ]
    assert gzip_tag != tag
    again = client.get(
        "/static/catalogue.json", headers={"Accept-Encoding": "br", "If-None-Match": tag}
    )
    assert again.status_code == 304
    assert again.get_data() == b""

    changed = CATALOGUE.replace("Taken", "Done")
    path = files / "catalogue.json"
    path.write_text(changed)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    fresh = client.get(
        "/static/catalogue.json", headers={"Accept-Encoding": "br", "If-None-Match": tag}
    )
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] != tag
    assert brotli.decompress(fresh.get_data()).decode() == changed


def test_pictures_are_sent_as_they_are(app: Flask, files: Path) -> None:
    answer = app.test_client().get("/static/icons/dot.png", headers={"Accept-Encoding": "br"})
    assert answer.status_code == 200
    assert "Content-Encoding" not in answer.headers
    assert answer.mimetype == "image/png"
    assert answer.get_data() == (files / "icons" / "dot.png").read_bytes()


@pytest.mark.parametrize(
    "name", ["../secret.txt", "js", "js/missing.js", "%2e%2e/secret.txt", "%00", "js/words.js%00"]
)
def test_nothing_outside_the_apps_files_is_sent(app: Flask, files: Path, name: str) -> None:
    answer = app.test_client().get(f"/static/{name}")
    assert answer.status_code == 404
    assert b"not the app's" not in answer.get_data()


PAGE = """<!doctype html>
<html lang="en">
<head>
  <link rel="stylesheet" href="/static/css/app.css">
  <script type="module" src="/static/js/app.js"></script>
  <link rel="modulepreload" href="/static/js/ui.js">
</head>
<body><main id="main"></main></body>
</html>
"""


def _preloaded(html: str) -> list[str]:
    return re.findall(r'<link rel="modulepreload" href="/static/([^"]+)">', html)


def test_a_page_names_all_the_code_its_script_imports(app: Flask, files: Path) -> None:
    (files / "index.html").write_text(PAGE)
    (files / "care").mkdir()
    (files / "care" / "index.html").write_text(PAGE.replace("/js/app.js", "/care/app.js"))
    modules = {
        "js/app.js": "import { h } from './dom.js';\nimport * as store from './store.js';\n"
        "const later = () => import('./views/today.js');\n",
        "js/dom.js": "export const h = 1;\n",
        "js/store.js": "import { h } from './dom.js';\nexport { words } from './words.js';\n",
        "js/ui.js": "import { h } from './dom.js';\n",
        "js/views/today.js": "import '../ui.js';\n",
        # the care app's modules import the patient app's by their absolute path
        "care/app.js": "import { h } from '/static/js/dom.js';\nimport './live.js';\n",
        "care/live.js": "import { ui } from '../js/ui.js';\n",
    }
    (files / "js" / "views").mkdir()
    for name, source in modules.items():
        (files / name).write_text(source)
    client = app.test_client()

    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    # after the script: what it imports, and what those import (words.js is the fixture's own);
    # not the screen it imports later, nor ui.js again, which the page names itself
    assert _preloaded(page.get_data(as_text=True)) == [
        "js/dom.js",
        "js/store.js",
        "js/words.js",
        "js/ui.js",
    ]
    assert page.get_data(as_text=True).index("js/app.js") < page.get_data(as_text=True).index(
        "js/dom.js"
    )
    care = client.get("/care/").get_data(as_text=True)
    assert _preloaded(care) == ["js/dom.js", "care/live.js", "js/ui.js"]

    # sent as a file is: compressed, and a 304 while nothing it is made of has changed
    coded = client.get("/care/", headers={"Accept-Encoding": "br"})
    assert coded.headers["Content-Encoding"] == "br"
    assert brotli.decompress(coded.get_data()).decode() == care
    tag = coded.headers["ETag"]
    unchanged = client.get("/care/", headers={"Accept-Encoding": "br", "If-None-Match": tag})
    assert unchanged.status_code == 304
    live = files / "care" / "live.js"
    live.write_text("import { ui } from '../js/ui.js';\nimport { api } from '/static/js/api.js';\n")
    (files / "js" / "api.js").write_text("export const api = 1;\n")
    stat = live.stat()
    os.utime(live, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = client.get("/care/", headers={"Accept-Encoding": "br", "If-None-Match": tag})
    assert changed.status_code == 200
    # (ui.js last: the page's own link)
    assert _preloaded(brotli.decompress(changed.get_data()).decode()) == [
        "js/dom.js",
        "care/live.js",
        "js/api.js",
        "js/ui.js",
    ]


def test_a_module_two_scripts_import_is_named_once(app: Flask, files: Path) -> None:
    (files / "index.html").write_text(
        PAGE.replace(
            '<script type="module" src="/static/js/app.js"></script>\n',
            '<script type="module" src="/static/js/first.js" async></script>\n'
            '  <script type="module" src="/static/js/app.js"></script>\n',
        )
    )
    (files / "js" / "first.js").write_text("import { h } from './dom.js';\n")
    (files / "js" / "app.js").write_text("import { h } from './dom.js';\nimport './store.js';\n")
    (files / "js" / "dom.js").write_text("export const h = 1;\n")
    (files / "js" / "store.js").write_text("import { h } from './dom.js';\n")
    page = app.test_client().get("/").get_data(as_text=True)
    assert _preloaded(page) == ["js/dom.js", "js/store.js", "js/ui.js"]
    assert page.index("js/first.js") < page.index("js/dom.js") < page.index("js/app.js")
