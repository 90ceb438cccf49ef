"""build_corpus.py refuses what it must: archives that are not the pinned ones, members that would land outside
the destination or are links, and a destination holding anything but the corpus; a destination that already
matches its manifest is left alone. No network: pip is pointed at a local folder of counterfeit archives."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from tests.corpus.build_corpus import SDISTS, BuildError, Sdist, build, check_archive, corpus_problem, extract

TOY = Sdist("toy", "1.0", "0" * 64, ("LICENSE", "tests/docs"))
FEED = b"<rss/>"


def _archive(path: Path, members: list[tarfile.TarInfo]) -> Path:
    """A .tar.gz of these members; regular files get their name as content."""
    with tarfile.open(path, "w:gz") as archive:
        for member in members:
            content = member.name.encode() if member.isfile() else b""
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content) if member.isfile() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.linkname = kind, target
    return member


def _files(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def _manifest(path: Path, names: list[str], content: bytes = FEED) -> Path:
    """A manifest listing these names, each with the SHA-256 of ``content``."""
    digest = hashlib.sha256(content).hexdigest()
    path.write_text("".join(f"{digest}  {name}\n" for name in names))
    return path


def _toy(extra: tarfile.TarInfo) -> list[tarfile.TarInfo]:
    return [_member("toy-1.0/LICENSE"), _member("toy-1.0/tests/docs/a.xml"), extra]


def test_only_the_wanted_regular_files_are_extracted(tmp_path: Path) -> None:
    path = _archive(tmp_path / "toy.tar.gz", [
        *_toy(_member("toy-1.0/setup.py")), _member("toy-1.0/tests/docs/deeper/b.xml"),
        _member("other-2.0/tests/docs/c.xml"), _member("toy-1.0/tests/docsx/d.xml")])
    top = extract(TOY, path, tmp_path / "out")
    assert top == tmp_path / "out" / "toy-1.0"
    assert _files(tmp_path / "out") == {"toy-1.0/LICENSE", "toy-1.0/tests/docs/a.xml", "toy-1.0/tests/docs/deeper/b.xml"}
    assert (top / "tests" / "docs" / "a.xml").read_bytes() == b"toy-1.0/tests/docs/a.xml"


@pytest.mark.parametrize(("member", "refusal"), [
    (_member("toy-1.0/tests/docs/b.xml", tarfile.SYMTYPE, "/etc/passwd"), "not a regular file"),
    (_member("toy-1.0/tests/docs/b.xml", tarfile.LNKTYPE, "toy-1.0/LICENSE"), "not a regular file"),
    (_member("toy-1.0/tests/docs", tarfile.SYMTYPE, "/tmp"), "not a regular file"),
    (_member("toy-1.0/tests/docs/../../../../escaped.xml"), "unsafe member refused"),
    (_member("toy-1.0/tests/docs/dev", tarfile.CHRTYPE), "not a regular file"),
])
def test_links_devices_and_escapes_refuse_the_archive(tmp_path: Path, member: tarfile.TarInfo, refusal: str) -> None:
    path = _archive(tmp_path / "toy.tar.gz", _toy(member))
    (tmp_path / "deep" / "er").mkdir(parents=True)
    with pytest.raises(BuildError, match=refusal):
        extract(TOY, path, tmp_path / "deep" / "er" / "out")
    # Nothing was written beside the destination, whatever the refused member pointed at.
    assert _files(tmp_path) - {"toy.tar.gz"} <= {f"deep/er/out/{name}" for name in ("toy-1.0/LICENSE",
                                                                                     "toy-1.0/tests/docs/a.xml")}


def test_an_archive_without_a_wanted_path_is_refused(tmp_path: Path) -> None:
    path = _archive(tmp_path / "toy.tar.gz", [_member("toy-1.0/LICENSE")])
    with pytest.raises(BuildError, match=r"lacks \['tests/docs'\]"):
        extract(TOY, path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_archive_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    counterfeit = _archive(tmp_path / TOY.filename, _toy(_member("toy-1.0/setup.py")))
    with pytest.raises(BuildError, match="not the pinned 0000"):
        check_archive(TOY, counterfeit)
    with pytest.raises(BuildError, match="did not save"):
        check_archive(TOY, tmp_path / "absent.tar.gz")


def test_counterfeit_sdists_from_the_index_are_never_extracted(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # pip runs in hash-checking mode: archives with the pinned names but other bytes stop the build before anything
    # is extracted, and the destination is left as it was (no corpus, no scratch folder).
    index = tmp_path / "index"
    index.mkdir()
    for sdist in SDISTS:
        _archive(index / sdist.filename, [_member(f"{sdist.top}/LICENSE")])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    dest = tmp_path / "dest"
    with pytest.raises(BuildError, match="pip download failed"):
        build(dest)
    assert dest.is_dir() and not list(dest.iterdir())


def test_a_destination_holding_anything_else_is_refused_not_emptied(tmp_path: Path) -> None:
    (tmp_path / "scrapy").mkdir()
    (tmp_path / "thesis.tex").write_text("years of work")
    with pytest.raises(BuildError, match=r"holds \['thesis.tex'\]"):
        build(tmp_path)
    assert _files(tmp_path) == {"thesis.tex"} and (tmp_path / "scrapy").is_dir()


def test_a_destination_matching_its_manifest_is_left_alone(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    (dest / "feedparser").mkdir(parents=True)
    (dest / "feedparser" / "a.xml").write_bytes(FEED)
    manifest = _manifest(tmp_path / "MANIFEST.sha256", ["feedparser/a.xml"])
    assert corpus_problem(dest, manifest) is None
    stale = dest / ".build-x1y2z3"  # left by an interrupted build: removed, not counted as corpus
    stale.mkdir()
    (stale / "partial.xml").write_bytes(b"<")
    assert build(dest, manifest) is False
    assert _files(dest) == {"feedparser/a.xml"}


def test_missing_unlisted_and_changed_files_are_named(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path / "MANIFEST.sha256", ["a.xml", "b.xml"])
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a.xml").write_bytes(FEED)
    (dest / "c.xml").write_bytes(FEED)
    assert corpus_problem(dest, manifest) == "missing: ['b.xml'], unlisted: ['c.xml']"
    (dest / "c.xml").rename(dest / "b.xml")
    (dest / "README.md").write_text("not part of the corpus")
    assert corpus_problem(dest, manifest) is None
    (dest / "b.xml").write_bytes(b"<rss />")
    assert corpus_problem(dest, manifest) == "files differ from the manifest: ['b.xml']"
