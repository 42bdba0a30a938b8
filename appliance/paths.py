"""Where the appliance keeps and finds things on disk.

This module owns three answers: the default data folder (database, secrets
fallback file, certificate cache), the ordered list of places an `offen.env`
file may live (reference §5.1), and the root of the bundled resources (`ui/`)
both in a checkout and inside a PyInstaller binary.

It never reads `os.environ`: the environment is passed in by `config.py`,
which is the only module allowed to read it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import platformdirs

# Offen's Linux/macOS default (`/var/opt/offen/offen.db`) is kept for root so
# that an existing server installation finds its database where it was.
SYSTEM_DATA_DIR = Path("/var/opt/offen")
ENV_FILE_NAME = "offen.env"


def default_data_dir(is_root: bool) -> Path:
    """The data folder used when `OFFEN_APP_DATADIR` is not set.

    Root gets Offen's own `/var/opt/offen`; anybody else gets the per-user
    data folder for "offen" (e.g. `~/.local/share/offen` on Linux), because an
    unprivileged user cannot create folders under `/var/opt`.
    """
    if is_root:
        return SYSTEM_DATA_DIR
    # appauthor=False keeps Windows from nesting the folder under an
    # "author" folder; the name alone identifies the appliance.
    return Path(platformdirs.user_data_dir("offen", appauthor=False))


def env_file_candidates(environ: Mapping[str, str], cwd: Path) -> list[Path]:
    """The places an env file is looked for, in Offen's order (reference §5.1).

    `./offen.env`, `$HOME/.config/offen.env`, `$XDG_CONFIG_HOME/offen.env`,
    `/etc/offen/offen.env` on Linux and macOS; only `./offen.env` on Windows.
    Variables that are unset or empty are skipped rather than turned into
    relative paths, which would silently point into the working directory.
    """
    candidates = [Path(cwd) / ENV_FILE_NAME]
    if sys.platform.startswith("win"):
        return candidates
    home = environ.get("HOME", "")
    if home:
        candidates.append(Path(home) / ".config" / ENV_FILE_NAME)
    xdg = environ.get("XDG_CONFIG_HOME", "")
    if xdg:
        candidates.append(Path(xdg) / ENV_FILE_NAME)
    candidates.append(Path("/etc/offen") / ENV_FILE_NAME)
    return candidates


def resource_root() -> Path:
    """The folder that holds the bundled `ui/` tree.

    Inside a PyInstaller binary that is the unpack folder `sys._MEIPASS`;
    otherwise the repository root, one level above this package.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parent.parent
