"""Hostile Arazzo documents end with a named problem (file and line where there is one) and exit status 1, in
bounded time and memory, never a traceback: alias and merge-key bombs, deep nesting, unknown and Python tags,
non-UTF-8 bytes, oversized files, and source descriptions that point outside the document's project or at
something that is not a regular file. Each runs the real CLI in a subprocess under an address-space limit."""
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 768 * 1024 * 1024   # the whole CLI process, interpreter included
TIME_LIMIT = 60                    # seconds; a bounded document is refused in well under one
HEAD = "arazzo: 1.0.1\ninfo: {title: Hostile, version: 1.0.0}\n"
OPENAPI = "openapi: 3.1.0\ninfo: {title: T, version: 1.0.0}\npaths:\n  /x:\n    get: {operationId: getX}\n"


def workflow_with_source(url: str) -> str:
    return (HEAD + f"sourceDescriptions:\n- {{name: api, url: '{url}', type: openapi}}\n"
            "workflows:\n- workflowId: w\n  steps:\n  - {stepId: s, operationId: getX}\n")


def alias_bomb() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return HEAD + "\n".join(lines) + "\n"


def merge_bomb() -> str:
    lines = ["m0: &m0 {k0: 0, k1: 1}"]
    lines += [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}, *m{i - 1}, *m{i - 1}]}}" for i in range(1, 16)]
    return HEAD + "\n".join(lines) + "\n"


# name -> (file contents, or a callable that makes the case in a folder; text the problem must contain)
CASES = {
    "alias bomb": (alias_bomb(), "values (aliases or merge keys expand to more)"),
    "merge-key bomb": (merge_bomb(), "values (aliases or merge keys expand to more)"),
    "deep YAML nesting": (HEAD + "x: " + "[" * 50_000 + "]" * 50_000 + "\n", "levels of nesting"),
    "deep JSON nesting": ('{"arazzo": "1.0.1",\t"x": ' + "[" * 50_000 + "]" * 50_000 + "}", "levels of nesting"),
    "deep condition": (workflow_with_source("./api.yml").replace(
        "operationId: getX}", "operationId: getX, successCriteria: [{condition: '" + "(" * 500 + "$statusCode == 200"
        + ")" * 500 + "'}]}"), "levels of nesting"),
    "python tag": (HEAD + "x: !!python/object/apply:os.system ['echo pwned']\n", "tag 'tag:yaml.org,2002:python/"),
    "python tag on a mapping": (HEAD + "x: !!python/object:builtins.dict {a: 1}\n", "is not allowed"),
    "unknown tag": (HEAD + "x: !Ref Something\n", "tag '!Ref' is not allowed"),
    "binary tag": (HEAD + "x: !!binary aGVsbG8=\n", "tag 'tag:yaml.org,2002:binary' is not allowed"),
    "non-UTF-8 bytes": ((HEAD + "x: caf").encode() + b"\xe9\n", "not UTF-8 text"),
    "oversized file": (HEAD + "# " + "x" * (5 * 1024 * 1024) + "\n", "a document may have"),
    "source /etc/passwd": (workflow_with_source("/etc/passwd"), "absolute paths are not followed"),
    "source ../../x": (workflow_with_source("../../x"), "is outside"),
    "source file: URL": (workflow_with_source("file:///etc/passwd"), "file: URLs are not followed"),
    "source /dev/zero": (workflow_with_source("/dev/zero"), "absolute paths are not followed"),
    "source is a FIFO": (workflow_with_source("./pipe.yml"), "not a regular file"),
    "source is a directory": (workflow_with_source("./folder"), "not a regular file"),
    "source is a link out": (workflow_with_source("./passwd.yml"), "leads outside"),
}


def make_case(folder: Path, name: str) -> Path:
    project = folder / "project"
    (project / "arazzo").mkdir(parents=True)
    os.mkfifo(project / "arazzo" / "pipe.yml")
    (project / "arazzo" / "folder").mkdir()
    (project / "arazzo" / "api.yml").write_text(OPENAPI)
    (project / "arazzo" / "passwd.yml").symlink_to("/etc/passwd")  # a link inside the project that leads out
    content, _ = CASES[name]
    path = project / "arazzo" / "hostile.arazzo.yml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run([sys.executable, "-m", "arazzo_sfn.cli", *args], capture_output=True, text=True,
                          timeout=TIME_LIMIT, preexec_fn=limit, cwd=ROOT, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", ["validate", "compile", "corpus"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_document_is_a_named_problem(tmp_path, case, command):
    path = make_case(tmp_path, case)
    result = run_cli(command, str(path.parent if command == "corpus" else path))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-2000:]
    assert "Traceback" not in output and "Error:" not in output.replace("InvalidInput", ""), output[-2000:]
    assert CASES[case][1] in output, output[-2000:]
    assert str(path) in output or command == "corpus" and str(path.name) in output, output[-2000:]


@pytest.mark.parametrize("case, line", [("python tag", 3), ("unknown tag", 3), ("non-UTF-8 bytes", 3),
                                        ("source /etc/passwd", 4), ("alias bomb", 3)])
def test_problems_name_the_line(tmp_path, case, line):
    path = make_case(tmp_path, case)
    result = run_cli("validate", str(path))
    assert f"{path}:{line}:" in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_the_document_itself_must_be_a_regular_file(tmp_path, target):
    if target == "fifo":
        target = str(tmp_path / "doc.arazzo.yml")
        os.mkfifo(target)
    for command in ("validate", "compile"):
        result = run_cli(command, target)
        assert result.returncode == 1 and f"{target}: not a regular file" in result.stdout + result.stderr


def test_the_projects_layout_resolves_and_a_source_root_widens_or_narrows_it(tmp_path):
    project = tmp_path / "project"
    (project / "arazzo" / "flows").mkdir(parents=True)
    (project / "openapi").mkdir()
    (project / "openapi" / "api.yml").write_text(OPENAPI)
    beside = project / "arazzo" / "flow.arazzo.yml"
    beside.write_text(workflow_with_source("../openapi/api.yml"))
    deeper = project / "arazzo" / "flows" / "flow.arazzo.yml"
    deeper.write_text(workflow_with_source("../../openapi/api.yml"))
    assert run_cli("validate", str(beside)).returncode == 0                # arazzo/x.yml -> ../openapi/y.yml
    refused = run_cli("validate", str(deeper))                               # above arazzo/: outside by default
    assert refused.returncode == 1 and "is outside" in refused.stdout
    assert run_cli("validate", "--source-root", str(project), str(deeper)).returncode == 0
    narrowed = run_cli("validate", "--source-root", str(project / "arazzo"), str(beside))
    assert narrowed.returncode == 1 and "is outside" in narrowed.stdout
