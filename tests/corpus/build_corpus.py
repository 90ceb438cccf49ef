"""Build the real-world corpus (tests/corpus/README.md) from feedparser's and Scrapy's source distributions on PyPI.

Usage: python tests/corpus/build_corpus.py [--new-manifest] [DEST]    (DEST defaults to tests/corpus/data, which
git ignores; --new-manifest rewrites MANIFEST.sha256 from the build, after a reviewed change of release)

When DEST already holds the corpus exactly as MANIFEST.sha256 lists it, nothing is done (no network): running this
before every test run is cheap. Otherwise:

1. ``pip download`` fetches the two pinned sdists (version and SHA-256; pip runs in hash-checking mode, so a
   changed archive is refused before pip unpacks it), and this script checks each archive's SHA-256 again before
   opening it;
2. the wanted files are extracted with tarfile's ``data`` filter (regular files only: a link or a device among
   them, or a member that would land outside DEST, refuses the whole archive);
3. Scrapy's sitemap documents are written out of its test modules by extract_scrapy_sitemaps.py;
4. the result is checked against MANIFEST.sha256 and only then replaces DEST's ``feedparser/`` and ``scrapy/``.

Everything is built in a scratch folder inside DEST and removed at the end, so nothing is written outside DEST
(apart from pip's own cache); DEST may hold nothing but the corpus, so a wrong DEST is refused, not emptied.
Exit status 0 when DEST matches the manifest at the end, 1 (with the reason) otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "MANIFEST.sha256"
DEFAULT_DEST = HERE / "data"
# What DEST may hold: the corpus, a README (older copies of the corpus carried one; not in the manifest) and the
# scratch folders of builds.
CORPUS_FOLDERS = ("feedparser", "scrapy")
IGNORED = "README.md"
SCRATCH_PREFIX = ".build-"

WELLFORMED = ("atom", "atom10", "rss", "rdf", "base", "cdf", "amp", "namespace", "lang", "xml", "node_precedence",
              "http", "sgml", "feedburner", "psc", "itunes", "media-rss", "geo")
SCRAPY_SAMPLES = ("feeds/feed-sample1.xml", "feeds/feed-sample2.xml", "compressed/feed-sample1.xml.gz",
                  "compressed/bomb-gzip.bin", "compressed/truncated-crc-error.gz",
                  "compressed/truncated-crc-error-short.gz", "compressed/unexpected-eof.gz")


class BuildError(Exception):
    """The corpus cannot be built (or DEST cannot take it); the message says why."""


@dataclass(frozen=True)
class Sdist:
    """A pinned source distribution and the paths taken from it (relative to its top folder; a folder is taken
    whole)."""

    name: str
    version: str
    sha256: str
    wanted: tuple[str, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}.tar.gz"

    @property
    def top(self) -> str:
        return f"{self.name}-{self.version}"


FEEDPARSER = Sdist("feedparser", "6.0.14", "088679b0c4b543ee211a820dd544698c76a402122eae7473c04a43425f283d06",
                   ("LICENSE", *(f"tests/wellformed/{name}" for name in WELLFORMED), "tests/illformed",
                    "tests/encoding", "tests/entities", "tests/compression"))
SCRAPY = Sdist("scrapy", "2.19.0", "34130726582b64c91531162ab277c4053e558876d49ba219cb43679e71d80a87",
               ("LICENSE", "tests/test_utils_sitemap.py", "tests/test_spider_sitemap.py",
                *(f"tests/sample_data/{name}" for name in SCRAPY_SAMPLES)))
SDISTS = (FEEDPARSER, SCRAPY)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(manifest: Path = MANIFEST) -> dict[str, str]:
    """The manifest's files (paths relative to the corpus folder) and their SHA-256."""
    return {name: digest for digest, name in (line.split("  ", 1) for line in manifest.read_text().splitlines())}


def corpus_problem(root: Path, manifest: Path = MANIFEST) -> str | None:
    """What makes ``root`` differ from the manifest (missing, unlisted or changed files), or None when it matches
    file for file."""
    listed = read_manifest(manifest)
    found = {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()} - {IGNORED}
    if found != set(listed):
        return f"missing: {sorted(set(listed) - found)[:5]}, unlisted: {sorted(found - set(listed))[:5]}"
    changed = [name for name, digest in listed.items() if _sha256(root / name) != digest]
    return f"files differ from the manifest: {changed[:5]}" if changed else None


def _check_dest(dest: Path) -> None:
    """Refuse a DEST that holds anything but the corpus: its old corpus folders are about to be replaced."""
    if dest.exists() and not dest.is_dir():
        raise BuildError(f"{dest} is not a folder")
    if dest.is_dir():
        foreign = sorted(entry.name for entry in dest.iterdir() if entry.name not in (*CORPUS_FOLDERS, IGNORED)
                         and not entry.name.startswith(SCRATCH_PREFIX))
        if foreign:
            raise BuildError(f"{dest} holds {foreign[:5]}, which are not the corpus: give an empty folder, or one "
                             "that holds only the corpus")


def _download(folder: Path) -> dict[Sdist, Path]:
    """The pinned sdists, fetched by pip in hash-checking mode and each checked again here."""
    requirements = folder / "requirements.txt"
    requirements.write_text("".join(f"{s.name}=={s.version} --hash=sha256:{s.sha256}\n" for s in SDISTS))
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--require-hashes",
               "--disable-pip-version-check", "--progress-bar", "off", "--dest", str(folder), "-r", str(requirements)]
    status = subprocess.run(command, check=False).returncode
    if status != 0:
        raise BuildError(f"pip download failed (exit {status}): PyPI unreachable, or an archive whose hash is not "
                         "the pinned one (pip says which above)")
    archives = {sdist: folder / sdist.filename for sdist in SDISTS}
    for sdist, archive in archives.items():
        check_archive(sdist, archive)
    return archives


def check_archive(sdist: Sdist, archive: Path) -> None:
    """Refuse an archive that is missing or whose SHA-256 is not the pinned one."""
    if not archive.is_file():
        raise BuildError(f"pip did not save {sdist.filename}")
    if (digest := _sha256(archive)) != sdist.sha256:
        raise BuildError(f"{sdist.filename} has SHA-256 {digest}, not the pinned {sdist.sha256}: refusing to "
                         "extract it (a changed release, or an index serving something else)")


def _wanted_members(sdist: Sdist, archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The archive's members under the wanted paths; anything there but a regular file or a folder refuses the
    archive."""
    taken: set[str] = set()
    for member in archive.getmembers():
        top, _, relative = member.name.partition("/")
        wanted = next((w for w in sdist.wanted if relative == w or relative.startswith(f"{w}/")), None)
        if top != sdist.top or wanted is None or member.isdir():
            continue
        if not member.isfile():
            raise BuildError(f"{sdist.filename}: {member.name} is not a regular file (a link or a device): refused")
        taken.add(wanted)
        yield member
    if missing := set(sdist.wanted) - taken:
        raise BuildError(f"{sdist.filename} lacks {sorted(missing)}")


def extract(sdist: Sdist, path: Path, into: Path) -> Path:
    """Extract the wanted files into ``into``; return the sdist's top folder there."""
    with tarfile.open(path, "r:gz") as archive:
        members = list(_wanted_members(sdist, archive))
        try:
            # The data filter refuses absolute paths, '..', links and special files, and anything landing outside
            # ``into``; members are regular files already, so this is the second lock.
            archive.extractall(into, members=members, filter="data")
        except tarfile.FilterError as exc:
            raise BuildError(f"{sdist.filename}: unsafe member refused: {exc}") from exc
    return into / sdist.top


def _assemble(archives: dict[Sdist, Path], scratch: Path) -> Path:
    """Lay the corpus out in ``scratch/corpus`` from the two archives."""
    corpus = scratch / "corpus"
    corpus.mkdir()
    # feedparser's folders keep their place: feedparser/LICENSE, feedparser/tests/...
    extract(FEEDPARSER, archives[FEEDPARSER], scratch / "src").rename(corpus / "feedparser")
    scrapy_src = extract(SCRAPY, archives[SCRAPY], scratch / "src")
    (corpus / "scrapy").mkdir()
    (scrapy_src / "LICENSE").rename(corpus / "scrapy" / "LICENSE")
    (scrapy_src / "tests" / "sample_data").rename(corpus / "scrapy" / "sample_data")
    # Its own script (not imported: this module is also imported by the test, where its folder is not on the path).
    extraction = subprocess.run([sys.executable, str(HERE / "extract_scrapy_sitemaps.py"), str(scrapy_src),
                                 str(corpus / "scrapy" / "sitemaps")], check=False, capture_output=True, text=True)
    if extraction.returncode != 0:
        raise BuildError(f"extract_scrapy_sitemaps.py failed:\n{extraction.stderr}")
    left_out = extraction.stdout.count("left out:")
    print(f"Scrapy sitemap tests left out: {left_out} (extract_scrapy_sitemaps.py names them and says why)")
    return corpus


def _install(corpus: Path, scratch: Path, dest: Path) -> None:
    """Replace DEST's corpus folders with the built ones (the old ones go to the scratch folder, removed later)."""
    for name in CORPUS_FOLDERS:
        if (dest / name).exists():
            (dest / name).rename(scratch / f"old-{name}")
        (corpus / name).rename(dest / name)


def write_manifest(root: Path, manifest: Path) -> None:
    """List every file of ``root`` (but a top README.md) with its SHA-256, as ``sha256sum`` writes them."""
    names = sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())
    manifest.write_text("".join(f"{_sha256(root / name)}  {name}\n" for name in names if name != IGNORED))


def build(dest: Path, manifest: Path = MANIFEST, *, new_manifest: bool = False) -> bool:
    """Make ``dest`` hold the corpus; False when it already did (nothing fetched). With ``new_manifest`` the corpus
    is built whatever DEST holds, and ``manifest`` is rewritten from it (after a reviewed change of release)."""
    _check_dest(dest)
    for stale in dest.glob(f"{SCRATCH_PREFIX}*"):  # left by an interrupted build (one build at a time per DEST)
        shutil.rmtree(stale)
    if not new_manifest and dest.is_dir() and corpus_problem(dest, manifest) is None:
        return False
    dest.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=dest))
    try:
        (scratch / "download").mkdir()
        corpus = _assemble(_download(scratch / "download"), scratch)
        if new_manifest:
            write_manifest(corpus, manifest)
        if problem := corpus_problem(corpus, manifest):
            raise BuildError(f"the built corpus does not match {manifest}: {problem}")
        _install(corpus, scratch, dest)
    finally:
        shutil.rmtree(scratch)
    if problem := corpus_problem(dest, manifest):
        raise BuildError(f"{dest} does not match {manifest} after the build: {problem}")
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Build the real-world corpus from the pinned PyPI sdists.")
    parser.add_argument("dest", nargs="?", type=Path, default=DEFAULT_DEST,
                        help="the corpus folder (default: tests/corpus/data)")
    parser.add_argument("--new-manifest", action="store_true",
                        help=f"build whatever DEST holds and rewrite {MANIFEST.name} from the result")
    args = parser.parse_args(argv)
    dest = args.dest.resolve()
    try:
        built = build(dest, new_manifest=args.new_manifest)
    except BuildError as exc:
        print(f"build_corpus: {exc}", file=sys.stderr)
        return 1
    files = len(read_manifest())
    print(f"{dest}: {'built' if built else 'already holds'} the corpus ({files} files, matching {MANIFEST.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
