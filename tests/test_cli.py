from __future__ import annotations

import json
import os

import pytest

from paramlab.console.cli import main

SID = "matrix-sensing-overparam"
FAST = ["--set", "T=60", "--set", "m=200", "--set", "n=10"]


def test_list_prints_ids_and_json(capsys):
    assert main(["list"]) == 0
    assert SID in capsys.readouterr().out
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any(d["id"] == SID and d["arxiv"] == "2310.01769" for d in data)


def test_show_prints_params_with_ranges_and_presets(capsys):
    assert main(["show", SID]) == 0
    out = capsys.readouterr().out
    assert "an integer in [10, 50]" in out and "quick" in out and "paper reports:" in out


def test_unknown_id_exits_2_with_the_closest_ids(capsys):
    assert main(["run", "matrix-sensing"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("paramlab: unknown scenario 'matrix-sensing'; did you mean")
    assert SID in err and len(err.splitlines()) == 1


def test_bad_set_exits_2_naming_param_value_and_allowed(capsys, runs):
    assert main(["run", SID, "--set", "k=abc"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "paramlab: k: expected an integer in [1, 50], got 'abc'"
    assert not runs.exists()  # nothing ran, nothing recorded


def test_set_without_equals_is_a_usage_error(capsys):
    assert main(["run", SID, "--set", "k"]) == 2
    assert "expected NAME=VALUE" in capsys.readouterr().err


def test_failed_claim_check_exits_1_and_prints_fail(capsys, runs):
    assert main(["run", SID, *FAST]) == 1
    out = capsys.readouterr().out
    assert "verdict: FAIL" in out and "record:" in out


def test_replay_draws_the_same_panels_and_verdict_as_the_live_run(capsys, runs):
    code = main(["run", SID, "--preset", "quick", "--width", "80"])
    live = capsys.readouterr().out
    assert code == 0 and "verdict: PASS" in live
    path = live.strip().splitlines()[-1].removeprefix("record: ")
    assert main(["replay", path, "--width", "80"]) == 0
    replayed = capsys.readouterr().out
    assert "re-checked: same verdict as recorded" in replayed
    body = lambda text: text[text.index("||M_t"):text.index("paper reports:")]  # noqa: E731
    assert body(replayed) == body(live)


def test_replay_of_missing_or_corrupt_record_exits_2_with_one_line(capsys, tmp_path):
    assert main(["replay", str(tmp_path / "none.jsonl")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json at all\n")
    assert main(["replay", str(bad)]) == 2
    assert "not a paramlab run record" in capsys.readouterr().err


def test_replay_of_a_truncated_record_warns_and_still_draws(capsys, runs):
    main(["run", SID, *FAST])
    path = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("record: ")
    with open(path) as fh:
        lines = fh.read().splitlines()
    # as a run killed mid-write leaves it: its writer (here this process) gone
    lines[0] = lines[0].replace(f'"pid":{os.getpid()}', '"pid":-7')
    with open(path, "w") as fh:
        fh.write("\n".join(lines[:-2]) + "\n" + lines[-2][:10])
    main(["replay", path])
    captured = capsys.readouterr()
    assert "skipped 1 unreadable line" in captured.err
    assert "||M_t - M*||_F" in captured.out and "has no footer" in captured.out


def test_runs_lists_records_with_status_and_verdict(capsys, runs):
    main(["run", SID, *FAST])
    capsys.readouterr()
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert SID in out and "FAIL" in out and "(1 records" in out


def test_check_exits_1_when_any_check_fails(capsys, runs):
    assert main(["check", SID, "--seeds", "0", *FAST]) == 1
    out = capsys.readouterr().out
    assert "0 passed, 1 failed" in out


def test_check_rejects_bad_seeds(capsys):
    assert main(["check", SID, "--seeds", "a-b"]) == 2


@pytest.mark.parametrize("argv", [
    ["run", SID, "--seed", "-1"], ["run", SID, "--seed", "1.5"], ["run", SID, "--seed", "x"],
    ["check", SID, "--seeds", "-1"], ["check", SID, "--seeds", "0,-2"],
    ["check", SID, "--seeds", "3-1"], ["sweep", SID, "--grid", "k=1,2", "--seeds", "-1"],
])
def test_a_bad_seed_is_one_line_exit_2_and_nothing_is_recorded(argv, capsys, runs):
    assert main([*argv, *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "seed" in err and "Traceback" not in err
    assert not runs.exists() or not any(runs.rglob("*.jsonl"))


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"]])
def test_help_exits_0(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0


def test_replay_matches_a_verdict_with_nan_measurements(capsys, runs):
    # T=60: nothing converged, some criteria measure NaN (e.g. inf/inf step ratios)
    main(["run", SID, *FAST])
    path = capsys.readouterr().out.strip().splitlines()[-1].removeprefix("record: ")
    main(["replay", path])
    out = capsys.readouterr()
    assert "nan" in out.out and "re-checked: same verdict as recorded" in out.out
    assert "differs" not in out.err


def test_no_command_without_a_terminal_prints_a_one_line_hint_and_exits_2(capsys):
    assert main([]) == 2  # pytest's stdin/stdout are not a TTY
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs a terminal" in err


def test_open_of_a_missing_or_bad_record_exits_2_before_the_console_starts(capsys, tmp_path):
    assert main(["open", str(tmp_path / "none.jsonl")]) == 2
    assert "no such record" in capsys.readouterr().err
    assert main(["open", str(tmp_path)]) == 2  # a folder with no records
    assert "no records in this folder" in capsys.readouterr().err


def test_help_and_list_do_not_import_textual():
    import subprocess
    import sys

    code = ("import sys; from paramlab.console.cli import main; main(['list']); "
            "assert 'textual' not in sys.modules, 'textual imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_check_over_seeds_prints_the_pass_rate_and_each_criterions_spread(capsys, runs):
    assert main(["check", "one-connection-sem", "--seeds", "0-2", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "one-connection-sem [quick] over 3 seeds: 3/3 PASS  -> PASS" in out
    assert "max relative error, closed form vs inverse" in out and "median" in out
    assert main(["check", "one-connection-sem", "--seeds", "0,1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["seed"] for r in data["runs"]] == [0, 1]
    (st,) = data["stability"]
    assert st["n_passed"] == 2 and st["word"] == "PASS" and st["criteria"][0]["n"] == 2
    assert len(list(runs.glob("*.jsonl"))) == 5  # every seed's run is recorded


def test_runs_dir_without_a_command_means_the_console(capsys, tmp_path):
    assert main(["--runs-dir", str(tmp_path)]) == 2  # the console, which needs a terminal
    assert "needs a terminal" in capsys.readouterr().err
    assert main([f"--runs-dir={tmp_path}"]) == 2
    assert "needs a terminal" in capsys.readouterr().err
