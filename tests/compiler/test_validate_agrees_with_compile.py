"""`arazzo-sfn validate` and `compile` agree: a document that fails to compile fails validation with the same
problems (file, line and message), and a valid document compiles, for every document of the tests (the product's,
the fixtures', and the odd ones in fixtures/odd that only a semantic check rejects)."""
from pathlib import Path

import pytest

from arazzo_sfn import cli

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "arazzo" / "airbyte-trigger-sync-and-poll-workflow.yml"] + sorted(
    (Path(__file__).parent / "fixtures").rglob("*.arazzo.yml"))


def run(capsys, *args: str) -> tuple[int, list[str]]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, [line for line in (captured.out + captured.err).splitlines() if line]


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_validate_and_compile_agree(capsys, tmp_path, path):
    validated, problems = run(capsys, "validate", str(path))
    workflows = [w.workflow_id for w in cli.validate(path)[0].workflows]
    for workflow_id in workflows:
        compiled, errors = run(capsys, "compile", str(path), "--workflow", workflow_id, "-o", str(tmp_path / "out"))
        if validated == 0:
            assert compiled == 0, errors
        else:
            assert compiled == 1 and errors, f"{path.name} is invalid but {workflow_id} compiled"
            assert set(errors) <= set(problems[:-1]), (errors, problems)   # the last line counts the problems


def test_the_odd_documents_are_each_refused_with_a_line():
    odd = sorted((Path(__file__).parent / "fixtures" / "odd").glob("*.arazzo.yml"))
    assert len(odd) >= 7
    for path in odd:
        _, problems = cli.validate(path)
        assert problems and all(p.line for p in problems), (path.name, [str(p) for p in problems])
