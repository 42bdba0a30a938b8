"""The layering rules of CONTRIBUTING.md, checked on every module's imports (read with `ast`).

Every import counts, also those inside functions and under `TYPE_CHECKING`:
a layer that may not depend on another may not name it at all. Exceptions
are listed next to the rule they bend, each with its reason.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "appliance"

DOMAIN = (
    "accounts",
    "events",
    "credentials",
    "logins",
    "invitations",
    "retention",
    "bannercss",
    "seed",
    "sync",
    "sharedcache",
    "mailtemplates",
)
PURE = ("keys", "ids", "errors", "records")
# The other modules at the package root, by role (see CONTRIBUTING.md's code map).
WIRING = ("__init__", "__main__", "cli", "cli_config")
SETUP = ("config", "paths", "keychain")
EDGES = ("mailer", "log", "server", "ratelimit")
CRYPTO_LIBS = ("cryptography", "argon2")


@dataclass(frozen=True)
class Import:
    name: str  # the module imported, absolute ("appliance.store", "bottle.ext")
    line: int
    top_level: bool  # runs when the module is imported (not inside a function or class)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(module: str, path: Path, level: int, name: str | None) -> str:
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _walk(node: ast.AST, top_level: bool):
    for child in ast.iter_child_nodes(node):
        nested = top_level and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield child, top_level
        yield from _walk(child, nested)


@cache
def modules() -> dict[str, tuple[Path, tuple[Import, ...]]]:
    found: dict[str, tuple[Path, tuple[Import, ...]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        imports: list[Import] = []
        for node, top in _walk(tree, True):
            if isinstance(node, ast.Import):
                imports += [Import(alias.name, node.lineno, top) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve_relative(module, path, node.level, node.module) if node.level else node.module
                assert base, f"{path}:{node.lineno}: unreadable import"
                imports.append(Import(base, node.lineno, top))
                # `from appliance import keys` imports the module appliance.keys.
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    if (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                        PACKAGE.parent / Path(*candidate.split("."))
                    ).is_dir():
                        imports.append(Import(candidate, node.lineno, top))
        found[module] = (path, tuple(imports))
    return found


def _in(name: str, *prefixes: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _offenders(importers, forbidden: tuple[str, ...]) -> list[str]:
    """`module:line imports name` for every import of a `forbidden` module by one of `importers`."""
    out = []
    for module, (_path, imports) in modules().items():
        if not importers(module):
            continue
        for item in imports:
            if _in(item.name, *forbidden):
                out.append(f"{module}:{item.line} imports {item.name}")
    return out


def test_the_walker_sees_the_package():
    found = modules()
    for expected in ("appliance.cli", "appliance.store", "appliance.web", "appliance.keys", "appliance.seed"):
        assert expected in found
    cli_imports = {i.name for i in found["appliance.cli"][1]}
    assert "argparse" in cli_imports and "appliance.config" in cli_imports
    # The walker follows `from appliance import keys` to the module.
    assert "appliance.keys" in {i.name for i in found["appliance.credentials"][1]}
    # cli.py imports the web layer inside cmd_serve only, so a plain `offen secret` stays light.
    web = [i for i in found["appliance.cli"][1] if i.name == "appliance.web"]
    assert web and not any(i.top_level for i in web)


def test_every_module_has_a_layer():
    """A new module at the package root must be given a role here, so the rules cover it."""
    classified = set(DOMAIN + PURE + WIRING + SETUP + EDGES)
    root = {
        module.removeprefix("appliance.") or "__init__"
        for module, (path, _imports) in modules().items()
        if path.parent == PACKAGE
    }
    root = {"__init__" if name == "appliance" else name for name in root}
    assert root - classified == set(), "classify these modules in tests/test_layering.py"


# -- third-party libraries have one home each ------------------------------------------------


def test_only_web_imports_bottle():
    assert _offenders(lambda m: not _in(m, "appliance.web"), ("bottle",)) == []


def test_only_store_imports_dataset_or_sqlalchemy():
    assert _offenders(lambda m: not _in(m, "appliance.store"), ("dataset", "sqlalchemy")) == []


def test_only_keychain_imports_keyring():
    assert _offenders(lambda m: m != "appliance.keychain", ("keyring",)) == []


# server.py and mailer.py run TLS through the standard `ssl` module today. If
# loading certificates ever needs `cryptography` (e.g. to read a certificate's
# expiry), those two may import it; argon2 stays in keys.py, and the store
# never touches either.
CRYPTOGRAPHY_FOR_TLS = ("appliance.server", "appliance.mailer")


def test_crypto_libraries_stay_in_keys():
    assert _offenders(lambda m: m not in ("appliance.keys", *CRYPTOGRAPHY_FOR_TLS), CRYPTO_LIBS) == []
    assert _offenders(lambda m: m in CRYPTOGRAPHY_FOR_TLS, ("argon2",)) == []
    assert _offenders(lambda m: _in(m, "appliance.store"), CRYPTO_LIBS) == []


# -- the layers ----------------------------------------------------------------------------


def test_domain_modules_never_import_http_or_storage_libraries():
    domain = {f"appliance.{name}" for name in DOMAIN}
    forbidden = ("bottle", "dataset", "sqlalchemy", "keyring", "appliance.web", "appliance.cli")
    assert _offenders(lambda m: m in domain, forbidden) == []


# What a domain module may import from the appliance. The one exception:
# invitations sends reset and invitation mail, and takes the `Mailer` protocol
# for it (the transport itself is chosen in cli.py).
DOMAIN_MAY_IMPORT = (
    "appliance",  # `from appliance import keys` names the package itself
    "appliance.store",
    "appliance.keys",
    "appliance.ids",
    "appliance.errors",
    "appliance.records",
    *(f"appliance.{name}" for name in DOMAIN),
)
DOMAIN_EXCEPTIONS = {"appliance.invitations": ("appliance.mailer",)}


@pytest.mark.parametrize("name", DOMAIN)
def test_domain_modules_depend_only_on_store_keys_ids_errors_records(name):
    module = f"appliance.{name}"
    if module not in modules():
        pytest.skip(f"{module} does not exist")
    allowed = DOMAIN_MAY_IMPORT + DOMAIN_EXCEPTIONS.get(module, ())
    _path, imports = modules()[module]
    bad = [
        f"{module}:{i.line} imports {i.name}"
        for i in imports
        if _in(i.name, "appliance") and not any(i.name == a for a in allowed)
    ]
    assert bad == []


def test_store_never_imports_keys_web_or_the_domain():
    forbidden = (
        "appliance.keys",
        "appliance.web",
        "appliance.keychain",
        "appliance.config",
        "appliance.cli",
        *(f"appliance.{name}" for name in DOMAIN),
    )
    assert _offenders(lambda m: _in(m, "appliance.store"), forbidden) == []


def test_store_depends_only_on_ids_records_errors():
    allowed = ("appliance", "appliance.ids", "appliance.records", "appliance.errors")
    bad = []
    for module, (_path, imports) in modules().items():
        if not _in(module, "appliance.store"):
            continue
        for item in imports:
            if (
                _in(item.name, "appliance")
                and not _in(item.name, "appliance.store")
                and item.name not in allowed
            ):
                bad.append(f"{module}:{item.line} imports {item.name}")
    assert bad == []


# The web package's __init__ builds the app: it takes the Config, the Store
# (handed through to the domain services), the Mailer and the resource root
# from `paths`. The route modules below it see only domain modules.
WEB_WIRING = {"appliance.web": ("appliance.config", "appliance.store", "appliance.mailer", "appliance.paths")}


def test_web_routes_never_reach_past_the_domain():
    forbidden = (
        "appliance.store",
        "appliance.keychain",
        "appliance.config",
        "appliance.cli",
        "dataset",
        "sqlalchemy",
    )
    bad = []
    for module, (_path, imports) in modules().items():
        if not _in(module, "appliance.web"):
            continue
        allowed = WEB_WIRING.get(module, ())
        bad += [
            f"{module}:{i.line} imports {i.name}"
            for i in imports
            if _in(i.name, *forbidden) and not _in(i.name, *allowed)
        ]
    assert bad == []


def test_nothing_below_cli_imports_cli():
    assert _offenders(lambda m: m not in ("appliance.cli", "appliance.__main__"), ("appliance.cli",)) == []


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_use_only_the_stdlib_crypto_and_errors(name):
    module = f"appliance.{name}"
    _path, imports = modules()[module]
    bad = []
    for item in imports:
        root = item.name.split(".")[0]
        if root in sys.stdlib_module_names or root == "__future__":
            continue
        if root in CRYPTO_LIBS or item.name == "appliance.errors":
            continue
        # `from appliance import errors` resolves to appliance + appliance.errors.
        if item.name == "appliance" and any(
            i.name == "appliance.errors" and i.line == item.line for i in imports
        ):
            continue
        bad.append(f"{module}:{item.line} imports {item.name}")
    assert bad == []


# -- process-wide state has one reader ------------------------------------------------------


def _attribute_uses(tree: ast.AST, owner: str, attributes: set[str]) -> list[int]:
    """Lines that use `owner.attr` or `from owner import attr` for attr in `attributes`."""
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in attributes
            and isinstance(node.value, ast.Name)
            and node.value.id == owner
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == owner:
            if any(alias.name in attributes for alias in node.names):
                lines.append(node.lineno)
    return lines


ENVIRONMENT = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
# No documented exceptions today: paths.py and mailer.py receive what they
# need from config.py. Add a module here with the reason if one is ever needed.
ENVIRONMENT_READERS = {"appliance.config"}


def test_only_config_reads_the_environment():
    bad = []
    for module, (path, _imports) in modules().items():
        if module in ENVIRONMENT_READERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad += [f"{module}:{line}" for line in _attribute_uses(tree, "os", ENVIRONMENT)]
    assert bad == []


def test_config_reads_the_environment_in_one_place():
    path, _ = modules()["appliance.config"]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and _attribute_uses(node, "os", ENVIRONMENT)
    ]
    assert [f.name for f in functions] == ["environment_from_process"]


def test_only_cli_reads_argv():
    bad = []
    for module, (path, _imports) in modules().items():
        if module == "appliance.cli":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad += [f"{module}:{line}" for line in _attribute_uses(tree, "sys", {"argv", "orig_argv"})]
    assert bad == []


def test_acme_and_webview_are_never_imported_at_module_level():
    # Both are optional and heavy: importing them must wait until the feature is used.
    bad = []
    for module, (_path, imports) in modules().items():
        bad += [
            f"{module}:{i.line} imports {i.name}"
            for i in imports
            if i.top_level and _in(i.name, "acme", "webview", "josepy")
        ]
    assert bad == []


# -- the checks themselves can fail -----------------------------------------------------------


def test_the_checks_catch_a_violation(tmp_path, monkeypatch):
    """A throw-away package with one violation per rule: each is reported."""
    fake = tmp_path / "appliance"
    (fake / "store").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "store" / "__init__.py").write_text("from appliance import keys\n")
    (fake / "keys.py").write_text("import os\nSECRET = os.environ.get('X')\n")
    (fake / "events.py").write_text("import bottle\n")
    (fake / "cli.py").write_text("")
    (fake / "gui.py").write_text("import sys\nimport webview\nprint(sys.argv)\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    modules.cache_clear()
    try:
        assert _offenders(lambda m: not _in(m, "appliance.web"), ("bottle",)) == [
            "appliance.events:1 imports bottle"
        ]
        assert _offenders(lambda m: _in(m, "appliance.store"), ("appliance.keys",)) == [
            "appliance.store:1 imports appliance.keys"
        ]
        with pytest.raises(AssertionError):
            test_only_config_reads_the_environment()
        with pytest.raises(AssertionError):
            test_only_cli_reads_argv()
        with pytest.raises(AssertionError):
            test_acme_and_webview_are_never_imported_at_module_level()
    finally:
        modules.cache_clear()
