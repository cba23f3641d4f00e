"""The JSONata bridge's process: started once, shared by threads, restarted when it dies, clear when it cannot run."""
import json
import threading

import pytest

from local_tools.clock import VirtualClock
from local_tools.engine import LocalEngine
from local_tools.engine.jsonata_bridge import NODE_MODULES, UNDEFINED, BridgeUnavailable, JsonataBridge, JsonataError


def test_one_process_answers_many_evaluations_and_stops_on_close():
    bridge = JsonataBridge()
    assert [bridge.evaluate("$n * 2", {"n": n}) for n in range(50)] == [n * 2 for n in range(50)]
    assert bridge.evaluate("$missing") is UNDEFINED and bridge.evaluate("null") is None
    process = bridge._process
    assert bridge.starts == 1
    bridge.close()
    assert process.poll() is not None


def test_errors_carry_jsonata_code_and_position():
    with JsonataBridge() as bridge, pytest.raises(JsonataError) as raised:
        bridge.evaluate("$string(1, 2, 3, 4)")
    assert raised.value.code == "T0410" and raised.value.position is not None
    assert str(raised.value).startswith("T0410: ")


def test_a_dead_process_is_started_again():
    with JsonataBridge() as bridge:
        assert bridge.evaluate("1 + 1") == 2
        bridge._process.kill()
        bridge._process.wait()
        assert bridge.evaluate("2 + 2") == 4
        assert bridge.starts == 2


def test_threads_take_turns():
    answers: dict[int, object] = {}
    with JsonataBridge() as bridge:
        def work(n: int) -> None:
            answers[n] = [bridge.evaluate("$n & '-' & $i", {"n": n, "i": i}) for i in range(20)]

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == {n: [f"{n}-{i}" for i in range(20)] for n in range(8)}


def test_missing_node_is_named(tmp_path):
    with pytest.raises(BridgeUnavailable, match="Node.js .* is not there"):
        JsonataBridge(node=str(tmp_path / "node")).check()


def test_missing_jsonata_package_says_how_to_install(tmp_path):
    with pytest.raises(BridgeUnavailable, match=r"npm jsonata 2\.0\.6 is not installed.*make tools"):
        JsonataBridge(node_modules=tmp_path).check()


def test_another_jsonata_version_is_refused(tmp_path):
    (tmp_path / "jsonata").mkdir()
    (tmp_path / "jsonata" / "package.json").write_text(json.dumps({"name": "jsonata", "version": "2.2.2"}))
    with pytest.raises(BridgeUnavailable, match=r"jsonata 2\.2\.2, not 2\.0\.6"):
        JsonataBridge(node_modules=tmp_path).check()


def test_the_engine_does_not_start_without_node(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BridgeUnavailable, match="Node.js"):
        with LocalEngine(clock=VirtualClock()):
            pass
    assert LocalEngine._active is None, "a failed start must leave no engine behind"


def test_the_pinned_package_is_installed():
    assert json.loads((NODE_MODULES / "jsonata" / "package.json").read_text())["version"] == "2.0.6"
