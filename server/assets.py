"""The app's own files (pwa_static/) as answers: each file compressed once per version of it,
and sent whole with its length.

Every visit asks for the same few dozen files, and a phone on a slow connection waits for their
bytes. A file's compressed form is made the first time a web worker sends it (brotli at its
strongest setting for a browser that takes it, gzip for one that does not) and kept while the
file is unchanged, so later answers cost a lookup. Its validator (ETag) names the file's version
and the coding, so a browser that has it gets a 304. The server's own reads of these files
(the page it fills in, the module graph it names) come from the same store (`contents`); a page
it fills in the same way for everyone is sent like a file (`send_made`), its validator naming
its bytes."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import stat
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import brotli
from flask import Request, Response, current_app
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

# the codings offered, best first; anything else is sent as it is
CODINGS = ("br", "gzip")
_KNOWN_TYPES = {".js": "text/javascript", ".webmanifest": "application/manifest+json"}


def _mimetype(path: Path) -> str:
    known = _KNOWN_TYPES.get(path.suffix)
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _coded(data: bytes, coding: str | None) -> bytes:
    if coding == "br":
        return bytes(brotli.compress(data, quality=11))
    if coding == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)
    return data


@lru_cache(maxsize=256)
def _body(path: Path, mtime_ns: int, size: int, coding: str | None) -> bytes:
    """`path`'s bytes in `coding`, made once per version of the file (its time and size)."""
    return _coded(path.read_bytes(), coding)


# a made page's coded bytes, by its bytes: the same page for everyone until a file it is made of
# changes
_made_body = lru_cache(maxsize=16)(_coded)


def _located(directory: Path, name: str) -> tuple[Path, os.stat_result]:
    """The regular file `name` under `directory` and its version; 404 when there is none (a
    name that leaves the directory, a folder, a name the system refuses, such as one with a NUL)."""
    joined = safe_join(str(directory), name)
    if joined is None:
        raise NotFound()
    path = Path(joined)
    try:
        found = path.stat()
    except (OSError, ValueError):
        raise NotFound() from None
    if not stat.S_ISREG(found.st_mode):
        raise NotFound()
    return path, found


def contents(directory: Path, name: str) -> bytes:
    """The bytes of the file `name` under `directory`, read again only when it changed."""
    path, found = _located(directory, name)
    return _body(path, found.st_mtime_ns, found.st_size, None)


def send(directory: Path, name: str, request: Request) -> Response:
    """The file `name` under `directory`, in the best coding the request accepts; 404 when
    there is no such file."""
    path, found = _located(directory, name)
    version = f"{found.st_mtime_ns:x}-{found.st_size:x}"
    return _answer(
        _mimetype(path),
        version,
        lambda coding: _body(path, found.st_mtime_ns, found.st_size, coding),
        request,
    )


def send_made(data: bytes, kind: str, request: Request) -> Response:
    """`data`, a page made from the app's files the same way for everyone, answered as a file
    is: in the best coding the request accepts, its validator naming its bytes."""
    version = hashlib.sha256(data).hexdigest()[:16]
    return _answer(kind, version, lambda coding: _made_body(data, coding), request)


def _answer(
    kind: str, version: str, body: Callable[[str | None], bytes], request: Request
) -> Response:
    # the kinds of answer worth compressing (pictures are compressed already): the app's setting
    compressible = kind in current_app.config["COMPRESS_MIMETYPES"]
    coding = request.accept_encodings.best_match(CODINGS) if compressible else None
    response = Response(body(coding), mimetype=kind)
    if coding:
        response.headers["Content-Encoding"] = coding
    if compressible:
        response.vary.add("Accept-Encoding")
    response.set_etag(f"{version}-{coding or 'identity'}")
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)
