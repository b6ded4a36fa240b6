"""The app's files as answers (server/assets.py): the best coding a browser takes, the whole body
with its length, a validator per version and coding, and nothing outside the app's folder."""

from __future__ import annotations

import gzip
import os
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
