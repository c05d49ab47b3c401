"""The test commands the README and docs give: a "fast suite" filter deselects every slow marker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SLOW_MARKERS = ("kafka", "registry", "postgres", "slow")  # pyproject.toml's markers for broker and long runs


def test_every_fast_suite_filter_deselects_every_slow_marker() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    filters = [(doc.name, expr) for doc in documents
               for expr in re.findall(r"""-m\s+["']([^"']+)["']""", doc.read_text(encoding="utf-8"))
               if "not kafka" in expr]
    assert filters, "the README gives the fast-suite command"
    for name, expr in filters:
        missing = [marker for marker in SLOW_MARKERS if f"not {marker}" not in expr]
        assert not missing, f"{name}: -m {expr!r} still selects {missing}"


def test_every_relative_link_of_the_docs_resolves_inside_the_repository() -> None:
    """A new user's fresh clone had no ``../shared/domain.md``: the README must stand on its own."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for doc in documents:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a URL or an anchor of the same page
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, broken


# Who found a rule or made a change: a tester's finding ("tester14 M1") or a helper's branch ("recycle36",
# "order29"); history for commit messages and tests, never for a document or the code's docstrings and comments.
INTERNAL_NAME = re.compile(r"\b(?:tester|order|recycle|pause|fix|small|tidy|clear|counter|versions|redrive|speed|"
                           r"verify|snap|recall|place|late|corrected)\d{1,2}\b")
CODE_PACKAGES = ("omnibus", "bus", "adapters", "processors", "schemas", "deploy", "demo")
# Left as they are while other branches change them (the identity graph's modules, the handoff tracker).
CODE_NOT_YET_CHECKED = ("processors/identity/graph/", "processors/handoffs/tracker.py")


def test_no_user_document_names_an_internal_tracker_entry() -> None:
    """The READMEs and docs state rules, not who found them ("tester14 M1" is history for commit messages and tests),
    as ``omnibus --help`` does (tests/bus/cli/test_help_text.py)."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
                 *sorted(path for top in CODE_PACKAGES[1:] for path in (ROOT / top).rglob("*.md"))]
    named = [f"{doc.relative_to(ROOT)}: {match.group(0)}" for doc in documents
             for match in INTERNAL_NAME.finditer(doc.read_text(encoding="utf-8"))]
    assert not named, named


def test_no_docstring_or_comment_of_the_code_names_a_tester_or_a_helper() -> None:
    """The code's docstrings and comments name the behaviour (what was lost, what is kept), not the finding or the
    branch that changed it; tests may keep a finding's number in their names."""
    sources = [path for top in CODE_PACKAGES for path in sorted((ROOT / top).rglob("*.py"))
               if not str(path.relative_to(ROOT)).startswith(CODE_NOT_YET_CHECKED)]
    named = [f"{path.relative_to(ROOT)}:{number}: {match.group(0)}" for path in sources
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             for match in INTERNAL_NAME.finditer(line)]
    assert not named, named


def _command_lines() -> list[tuple[str, str]]:
    """``(document, command line)`` for every ``omnibus ...`` the user documents give: inline code spans, the other
    spans of the parts table's first column (``identity split ...``), and lines of fenced blocks (continuation lines
    joined)."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    found = []
    for doc in documents:
        text = doc.read_text(encoding="utf-8")
        name = str(doc.relative_to(ROOT))
        found += [(name, span) for span in re.findall(r"`(omnibus [^`]+)`", text)]
        for row in re.findall(r"^\| `omnibus (?:[^|\\]|\\.)*\|", text, flags=re.MULTILINE):
            found += [(name, f"omnibus {span}") for span in re.findall(r"`([a-z][^`]*)`", row)
                      if not span.startswith("omnibus ")]
        for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
            for line in block.replace("\\\n", " ").splitlines():
                words = line.split("#", 1)[0].split()
                while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                    words.pop(0)  # VAR=value before the command
                if words and words[0].rsplit("/", 1)[-1] == "omnibus":
                    found.append((name, " ".join(["omnibus", *words[1:]])))
    return found


def _resolve(root: Any, words: list[str]) -> tuple[list[tuple[str, Any]], list[str]]:
    """The commands a synopsis names (``a\\|b`` and ``a | b`` / ``a / b`` are alternatives) and the words after
    their path; raises ``KeyError`` naming a word that is no sub-command of its group."""
    level = [("omnibus", root)]
    words = [word.replace("\\|", "|") for word in words]
    while words and all(hasattr(command, "commands") for _, command in level):
        names = words.pop(0)
        while len(words) > 1 and words[0] in ("|", "/"):  # ``stack up | status | down``
            names += "|" + words[1]
            del words[:2]
        if names == "...":
            return [], []
        level = [(f"{path} {name}", command.commands[name]) for path, command in level for name in names.split("|")]
    return level, words


def _options(words: list[str]) -> list[str]:
    """The ``--option`` words of a synopsis (``[--team|--to T]``, ``--by=NAME``), up to a shell pipe."""
    options = []
    for word in words:
        if word == "|":
            break
        options += [part.split("=", 1)[0] for part in re.split(r"[|\[\]]", word) if part.startswith("-")]
    return options


def test_every_command_line_of_the_docs_names_real_commands_options_and_every_required_option() -> None:
    """tester17 N7: the README's parts table gave ``handoffs ...|resolve ID --by PERSON``; ``resolve`` also requires
    ``--reason`` (``Missing option '--reason'``, exit 2). A line that gives options or arguments (a synopsis) names
    every required option; a bare command name (``omnibus identity move-contact``) names a command."""
    import typer

    from omnibus.cli import app

    root = typer.main.get_command(app)
    lines = _command_lines()
    assert len(lines) > 40 and any("handoffs resolve" in line or "|resolve" in line for _, line in lines)
    wrong = []
    for doc, line in lines:
        try:
            commands, rest = _resolve(root, line.split()[1:])
        except KeyError as exc:
            wrong.append(f"{doc}: {line!r}: no command {exc}")
            continue
        given = _options(rest)
        for path, command in commands:
            known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)} | {"--help"}
            wrong += [f"{doc}: {line!r}: {path} has no option {option}" for option in given if option not in known]
            required = [param.opts[0] for param in command.params
                        if param.required and param.param_type_name == "option"]
            if rest:
                wrong += [f"{doc}: {line!r}: {path} also requires {option}" for option in required
                          if option not in given]
    assert not wrong, "\n".join(wrong)


def _items(default: Any) -> list[str]:
    """What a README row must show of a list or mapping default: its items, keys, and the items under each key."""
    if isinstance(default, dict):
        return [str(key) for key in default] + [str(item) for value in default.values()
                                                if isinstance(value, list | tuple) for item in value]
    return [str(item) for item in default]


def test_f5_every_list_or_mapping_adapter_setting_is_in_the_settings_table_with_its_default() -> None:
    """F5 (session 20): ``OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS`` was in no user document, so nobody could tell that
    setting it replaced the e-mail and phone traits. Every list or mapping setting of every adapter (and of each
    call-center site, in the ``SITES`` row) has a row naming its default's items; a row written for several adapters
    (``OMNIBUS_ADAPTER_<WEB|...>__REFERENCE_FIELDS``) counts for each."""
    import typing

    from adapters.branch.config import ENV_PREFIX as BRANCH
    from adapters.branch.config import BranchSettings
    from adapters.call_center.config import ENV_PREFIX as CALL_CENTER
    from adapters.call_center.config import CallCenterSettings, SiteSettings
    from adapters.legacy.config import ENV_PREFIX as LEGACY
    from adapters.legacy.config import LegacySettings
    from adapters.web.config import ENV_PREFIX as WEB
    from adapters.web.config import WebSettings

    rows = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| `OMNIBUS_")]

    def row(variable: str) -> str | None:
        prefix, _, name = variable.rpartition("__")
        generic = re.escape("OMNIBUS_ADAPTER_<") + r"[^>]*" + re.escape(f">__{name}`")
        found = [line for line in rows if f"`{variable}`" in line or (
            re.search(generic, line) and prefix.removeprefix("OMNIBUS_ADAPTER_") in line)]
        return found[0] if found else None

    def collections(model: type[Any]) -> list[tuple[str, Any]]:
        return [(name, field.get_default(call_default_factory=True) if not field.is_required() else ())
                for name, field in model.model_fields.items()
                if typing.get_origin(field.annotation) in (tuple, dict, list)]

    missing = []
    for model, prefix in ((WebSettings, WEB), (CallCenterSettings, CALL_CENTER), (BranchSettings, BRANCH),
                          (LegacySettings, LEGACY)):
        for name, default in collections(model):
            variable = f"{prefix}{name.upper()}"
            text = row(variable)
            if text is None:
                missing.append(variable)
                continue
            missing += [f"{variable}: {item}" for item in _items(default) if item not in text]
    sites = row(f"{CALL_CENTER}SITES") or ""
    for name, default in collections(SiteSettings):
        missing += [f"SITES: {name}"] if f"`{name}`" not in sites else []
        missing += [f"SITES {name}: {item}" for item in _items(default) if item not in sites]
    assert not missing, missing
