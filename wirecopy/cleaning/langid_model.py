"""py3langid's model from an uncompressed copy in the user's cache.

py3langid decompresses its LZMA model file (4.6 MB → 68 MB) in every process that classifies a text: 0.3 s of
the 0.4 s its load takes, paid by each worker and by the flow's process in every run. The first load here
writes the decompressed file to `cache_dir()` (keyed by the model file's digest, written atomically); later
loads read it. The identifier is built from the same arrays as py3langid's `LanguageIdentifier.from_model_file`
(tests/test_cleaning_language.py compares both), and any failure (a read-only home, a full disk) leaves
py3langid to load its own. Pinned to py3langid 0.4's model layout.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import lzma
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

CACHE_ENV = "WIRECOPY_CACHE_DIR"

_LOG = logging.getLogger(__name__)


def cache_dir() -> Path:
    """`$WIRECOPY_CACHE_DIR`, else `$XDG_CACHE_HOME/wirecopy`, else `~/.cache/wirecopy`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wirecopy"


def install() -> None:
    """Make py3langid's module-level identifier (what `py3langid.classify` uses) the cached model's, unless one
    is loaded already; on failure py3langid loads its own model when first asked."""
    from py3langid import langid

    if langid.IDENTIFIER is not None:
        return
    path = None
    try:
        path = cached_model()
        langid.IDENTIFIER = load_identifier(path)
    except Exception as error:  # the cache is an optimisation: never a reason to fail
        _LOG.debug("py3langid model not read from the cache: %s: %s", type(error).__name__, error)
        if path is not None:  # a copy that cannot be read (damaged since): the next process writes it again
            with contextlib.suppress(OSError):
                path.unlink()


def cached_model() -> Path:
    """The uncompressed model file in the cache, written first when missing."""
    from py3langid import langid

    source = Path(langid.MODEL_DIR) / langid.MODEL_FILE
    digest = hashlib.blake2b(source.read_bytes(), digest_size=12).hexdigest()
    target = cache_dir() / f"py3langid-model-{digest}.npz"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".py3langid-", suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as out, lzma.open(source) as compressed:
                shutil.copyfileobj(compressed, out, length=1 << 20)
            os.replace(temporary, target)  # another process writing the same file meanwhile: either copy wins
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return target


def load_identifier(path: Path):
    """A `py3langid.langid.LanguageIdentifier` (norm_probs off, as py3langid's default) from an uncompressed
    model file: the arrays `py3langid.modelio.load_model` reads, built as `from_model_file` builds them."""
    from py3langid import langid, modelio

    with np.load(path, allow_pickle=False) as data:
        ptc, pc, classes = data["ptc"], data["pc"], data["classes"].tolist()
        nextmove, row = modelio._to_array(data["nextmove"]), modelio._to_array(data["nextmove_row"])
        output = data["out_feat"].tolist()
    return langid.LanguageIdentifier(np.asarray(ptc), np.asarray(pc), classes, nextmove, output, tk_row=row)
