"""A pytest plugin that runs mutmut's mutants in one pytest session, for the modules whose tests
start slowly (docs/testing.md, "Mutation testing").

mutmut 3 starts pytest and Django again for every mutant (10 to 40 s on our 2-core machines,
whatever the tests); this plugin starts them once. Run it from the ``mutants/`` directory a
``mutmut run`` made (its mutated copies and ``mutmut-stats.json``), with the same selection:

    cd mutants && PYTHONPATH=. python -m pytest -p tests.mutation_pass -p no:cacheprovider \\
        --no-migrations --no-cov -q --mutants-file names.txt --results-file results.json <tests>

Each mutant named in ``--mutants-file`` (one per line, as ``mutmut results`` names them) is
switched on through mutmut's own switch (``MUTANT_UNDER_TEST``, read by its trampoline on every
call); the tests mutmut's stats say reach its function run, fastest first, until one fails
(killed) or all pass (survived), as mutmut runs them. ``--new-tests`` also runs, after those, the
tests the stats do not know (written since mutmut's last stats run). The whole selection runs
unmutated before the first mutant and after the last, so nothing a mutant did carries over; a
test that takes more than two minutes counts as a failure (a timeout kills the mutant, as in
mutmut). Results are written to ``--results-file`` as they come, and a mutant already there is
skipped, so a stopped pass resumes.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

TIMEOUT_SECONDS = 120


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--mutants-file", help="the mutants to run, one name per line")
    parser.addoption("--results-file", help="JSON: each mutant's outcome, written as it goes")
    parser.addoption("--new-tests", action="store_true", help="also run the tests mutmut's stats do not know")


class Timeout(Exception):
    pass


def _raise_timeout(signum: int, frame: Any) -> None:
    raise Timeout


def fails(item: pytest.Item) -> bool:
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.alarm(TIMEOUT_SECONDS)
    try:
        reports = runtestprotocol(item, nextitem=None, log=False)
    except Timeout:
        return True
    finally:
        signal.alarm(0)
    return any(report.failed for report in reports)


def clear_memos() -> None:
    """Module-level memos a mutant could fill with a wrong value for the next one."""
    from evaluation import indicators

    indicators._translated_labels.clear()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool:
    config = session.config
    if not config.getoption("--mutants-file"):
        return False  # not a mutation pass: pytest runs the tests as usual
    names = [line.strip() for line in Path(config.getoption("--mutants-file")).read_text().splitlines()]
    results_path = Path(config.getoption("--results-file"))
    stats = json.loads(Path("mutmut-stats.json").read_text())
    tests_by_function: dict[str, list[str]] = stats["tests_by_mangled_function_name"]
    duration: dict[str, float] = stats["duration_by_test"]
    items = {item.nodeid: item for item in session.items}
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.exists() else {}

    def save() -> None:
        results_path.write_text(json.dumps(results, indent=1))

    def clean_run(when: str) -> list[str]:
        os.environ["MUTANT_UNDER_TEST"] = ""
        results[f"unmutated {when}: failing tests"] = failing = [
            nodeid for nodeid, item in items.items() if fails(item)
        ]
        save()
        return failing

    if clean_run("before"):
        print("The selection fails unmutated:", results["unmutated before: failing tests"])
        return True
    started = time.monotonic()
    todo = [name for name in names if name and name not in results]
    for number, name in enumerate(todo, start=1):
        function = name.rsplit("__mutmut_", 1)[0]
        tests = sorted(
            (t for t in tests_by_function.get(function, []) if t in items), key=lambda t: duration[t]
        )
        if config.getoption("--new-tests"):
            tests += [nodeid for nodeid in items if nodeid not in duration]
        clear_memos()
        os.environ["MUTANT_UNDER_TEST"] = name
        outcome = "survived" if tests else "no test reaches it"
        for nodeid in tests:
            if fails(items[nodeid]):
                outcome = f"killed by {nodeid}"
                break
        os.environ["MUTANT_UNDER_TEST"] = ""
        clear_memos()
        results[name] = outcome
        save()
        print(f"{number}/{len(todo)} {name}: {outcome} ({time.monotonic() - started:.0f} s)", flush=True)
    clean_run("after")
    return True
