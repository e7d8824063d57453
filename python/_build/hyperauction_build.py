"""A PEP 517 build backend for hyperauction, on the standard library only.

`pip install ./python` builds in an isolated environment that would download setuptools;
this backend needs nothing, so the client installs offline. It builds a pure-Python wheel
(the package, then NAME-VERSION.dist-info with METADATA, WHEEL and RECORD), an editable
wheel (PEP 660, a .pth file) and an sdist.
"""

import base64
import csv
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "hyperauction"
# The source distribution carries what a build and the tests need, never caches
SDIST_INCLUDE = ["pyproject.toml", "README.md", "_build", PACKAGE, "tests", "examples"]
SKIP_DIRS = {"__pycache__", ".pytest_cache"}
SKIP_SUFFIXES = (".pyc", ".pyo")
# Zip entries need a date from 1980 on; SOURCE_DATE_EPOCH makes builds reproducible
DEFAULT_EPOCH = 315532800


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        raw = f.read()
    try:
        import tomllib
    except ImportError:
        return _parse_project(raw.decode("utf-8"))
    return tomllib.loads(raw.decode("utf-8"))["project"]


def _parse_project(text):
    # Enough of TOML for the [project] table above, for Pythons before 3.11
    project = {}
    section = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").strip()
            continue
        if section != "project":
            continue
        m = re.match(r'^([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"$', line)
        if m:
            project[m.group(1)] = m.group(2)
            continue
        m = re.match(r'^license\s*=\s*\{\s*text\s*=\s*"([^"]*)"\s*\}$', line)
        if m:
            project["license"] = {"text": m.group(1)}
    return project


def _names():
    project = _project()
    name = project["name"]
    version = project["version"]
    return project, re.sub(r"[-_.]+", "_", name).lower(), version


def _metadata(project):
    lines = [
        "Metadata-Version: 2.1",
        "Name: " + project["name"],
        "Version: " + project["version"],
    ]
    if project.get("description"):
        lines.append("Summary: " + project["description"])
    if project.get("requires-python"):
        lines.append("Requires-Python: " + project["requires-python"])
    license = project.get("license")
    if isinstance(license, dict) and license.get("text"):
        lines.append("License: " + license["text"])
    body = ""
    readme = project.get("readme")
    if isinstance(readme, str):
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
        lines.append("Description-Content-Type: text/markdown")
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def _wheel_file():
    return (
        "Wheel-Version: 1.0\n"
        "Generator: hyperauction_build\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    ).encode("utf-8")


def _files_under(base):
    """(name in the archive, path) of each file under base, in order, caches left out."""
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(SKIP_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            yield os.path.relpath(path, ROOT).replace(os.sep, "/"), path


def _package_files():
    return list(_files_under(os.path.join(ROOT, PACKAGE)))


def _epoch():
    return max(int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH)), DEFAULT_EPOCH)


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [arcname, "sha256=" + digest, str(len(data))]


def _write_wheel(wheel_directory, entries):
    """entries: [(arcname, bytes)] without RECORD; writes the wheel and returns its name."""
    project, dist, version = _names()
    info = "%s-%s.dist-info" % (dist, version)
    entries = list(entries) + [
        (info + "/METADATA", _metadata(project)),
        (info + "/WHEEL", _wheel_file()),
        (info + "/top_level.txt", (PACKAGE + "\n").encode("utf-8")),
    ]
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for arcname, data in entries:
        writer.writerow(_record_line(arcname, data))
    writer.writerow([info + "/RECORD", "", ""])
    entries.append((info + "/RECORD", record.getvalue().encode("utf-8")))

    filename = "%s-%s-py3-none-any.whl" % (dist, version)
    date = time.gmtime(_epoch())[:6]
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for arcname, data in entries:
            entry = zipfile.ZipInfo(arcname, date_time=date)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, data)
    return filename


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _write_metadata_dir(metadata_directory):
    project, dist, version = _names()
    info = "%s-%s.dist-info" % (dist, version)
    folder = os.path.join(metadata_directory, info)
    os.makedirs(folder, exist_ok=True)
    for name, data in [
        ("METADATA", _metadata(project)),
        ("WHEEL", _wheel_file()),
        ("top_level.txt", (PACKAGE + "\n").encode("utf-8")),
    ]:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    return info


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _write_metadata_dir(metadata_directory)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _write_metadata_dir(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(
        wheel_directory, [(arcname, _read(path)) for arcname, path in _package_files()]
    )


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # The .pth puts this folder on sys.path, so edits to the package show without a reinstall
    pth = (ROOT + "\n").encode("utf-8")
    return _write_wheel(wheel_directory, [("__editable__.%s.pth" % PACKAGE, pth)])


def build_sdist(sdist_directory, config_settings=None):
    project, dist, version = _names()
    base = "%s-%s" % (dist, version)
    filename = base + ".tar.gz"
    mtime = _epoch()

    def add(tf, arcname, data, mode=0o644):
        entry = tarfile.TarInfo(base + "/" + arcname)
        entry.size = len(data)
        entry.mtime = mtime
        entry.mode = mode
        tf.addfile(entry, io.BytesIO(data))

    archive = os.path.join(sdist_directory, filename)
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        add(tf, "PKG-INFO", _metadata(project))
        for top in SDIST_INCLUDE:
            path = os.path.join(ROOT, top)
            if os.path.isfile(path):
                add(tf, top, _read(path))
                continue
            for arcname, full in _files_under(path):
                mode = 0o755 if os.access(full, os.X_OK) else 0o644
                add(tf, arcname, _read(full), mode)
    return filename
