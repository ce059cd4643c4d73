"""The paramlab console: a Textual app to pick scenarios, launch and watch runs, compare
them and replay records. This module holds the App and app-wide state only (the runner,
the list of runs shown); the rooms are in `screens/`, the pieces in `widgets/`.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

# Textual composes a changed screen at most MAX_FPS times a second (default 60): at 120
# a redrawn panel reaches the terminal ~8 ms sooner on average (the user's setting wins;
# read when textual is first imported)
os.environ.setdefault("TEXTUAL_FPS", "120")

from textual.app import App  # noqa: E402
from textual.binding import Binding

from paramlab.console.core.inputs import InputError
from paramlab.console.core.replay import STILL_RUNNING, replay
from paramlab.console.core.runner import FINAL_STATUSES, RunHandle, Runner
from paramlab.console.tui.messages import RecordFailed, RunFinished, RunsChanged
from paramlab.console.tui.model import RunView
from paramlab.scenarios import registry
from paramlab.scenarios.base import Params, Scenario, ScenarioMeta

# Points per series kept in memory for drawing (the record keeps every event). Plots show
# about twice their width, so this leaves ample room while bounding a long run's memory.
DISPLAY_CAP = 4096
# Processes that run plotext for the panels (pure Python: in the app's process it would
# hold the GIL the UI needs, and panels would wait for each other)
DRAW_PROCESSES = 2
# Isolated runs get this niceness: on a saturated machine the UI (and its drawing
# processes) win the CPU, so keys answer promptly; idle cores still go to the runs.
# At 10 instead of 19, 8 runs at 5000 events/s on 2 cores push the key-to-screen p95 from
# ~70 ms to ~100-125 ms. PARAMLAB_RUN_NICE=0 puts runs level with other programs.
RUN_NICE_ENV = "PARAMLAB_RUN_NICE"
RUN_NICE = 19
# Seconds after start-up when the objects made so far are frozen out of the garbage
# collector's full passes (`gc.freeze`): by then the imports and the first screen are done
FREEZE_AFTER = 2.0


def default_run_nice() -> int:
    text = os.environ.get(RUN_NICE_ENV, "")
    try:
        return max(0, min(19, int(text))) if text.strip() else RUN_NICE
    except ValueError:
        return RUN_NICE


class _Nowhere:
    def post_message(self, message) -> bool:
        return False


class ParamlabApp(App[int]):
    """`scenarios` replaces the registry (tests, demos); `open_paths` are records to
    replay on start (`paramlab open PATH...`). `isolate` runs each launched scenario in
    its own process (default: yes for registered scenarios, which a child process can
    load by id; no for a `scenarios` list, unless their entry points import there)."""

    CSS_PATH = "paramlab.tcss"
    TITLE = "paramlab"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("R", "records", "Records", key_display="R"),
    ]

    def __init__(self, *, runs_dir: str | Path | None = None, open_paths: Iterable[str] = (),
                 scenarios: Sequence[Scenario] | None = None,
                 display_cap: int = DISPLAY_CAP, isolate: bool | None = None,
                 draw_processes: int = DRAW_PROCESSES, run_nice: int | None = None) -> None:
        super().__init__()
        self.isolate = scenarios is None if isolate is None else isolate
        self.run_nice = default_run_nice() if run_nice is None else run_nice
        self.draw_pool: ProcessPoolExecutor | None = None
        self.draw_processes = draw_processes
        self.draw_ready = False  # set once the drawing processes are up
        if self.isolate or draw_processes:
            # now, while stderr is still the terminal's (the helpers get its descriptor):
            # the process server starts, and imports numpy and torch, in the background
            from paramlab.console.core.processes import process_context, warm_process_server

            warm_process_server()
            if draw_processes:
                self.draw_pool = ProcessPoolExecutor(draw_processes,
                                                     mp_context=process_context())
        self.runner = Runner(runs_dir)
        self.display_cap = display_cap
        self.items: list[RunView] = []
        self.sweeps: list = []  # console.sweep.Sweep objects started from the console
        self.frame_times: deque[float] = deque(maxlen=10_000)  # seconds per plot redraw
        # plots are drawn here, one at a time, off the UI thread (plotext is pure Python:
        # one thread is enough, and keeps each figure single-threaded)
        self.plot_executor = ThreadPoolExecutor(1, thread_name_prefix="paramlab-plot")
        self._open_paths = [str(p) for p in open_paths]
        self._scenarios = None if scenarios is None else {
            s.meta.id: s for s in scenarios if s.meta is not None}

    # ------------------------------------------------------------------ scenarios

    @property
    def runs_dir(self) -> Path:
        return self.runner.directory

    def scenario_metas(self) -> list[ScenarioMeta]:
        if self._scenarios is not None:
            return sorted((s.meta for s in self._scenarios.values()),  # type: ignore
                          key=lambda m: (m.theme, m.id))
        return registry.all_meta()

    def load_scenario(self, scenario_id: str) -> Scenario:
        if self._scenarios is not None:
            if scenario_id not in self._scenarios:
                raise registry.UnknownScenario(scenario_id, list(self._scenarios))
            return self._scenarios[scenario_id]
        return registry.load(scenario_id)

    # ------------------------------------------------------------------ lifecycle

    def get_default_screen(self):
        from paramlab.console.tui.screens.main import MainScreen

        return MainScreen()

    @property
    def main_screen(self):
        """The main screen (the bottom of the stack); a no-op sink once it is gone."""
        return self.screen_stack[0] if self.screen_stack else _Nowhere()

    def _warm_draw_pool(self) -> None:
        from paramlab.console.tui.widgets.plot_panel import warm_drawing_process

        pool = self.draw_pool
        try:
            futures = [pool.submit(warm_drawing_process) for _ in range(self.draw_processes)]
            for f in futures:
                f.result(timeout=120)
            self.draw_ready = True
        except Exception:  # no drawing processes: the plot thread keeps drawing
            self.draw_pool = None

    def on_unmount(self) -> None:
        self.plot_executor.shutdown(wait=False, cancel_futures=True)
        if self.draw_pool is not None:
            self.draw_pool.shutdown(wait=False, cancel_futures=True)

    def on_mount(self) -> None:
        self.set_timer(FREEZE_AFTER, self._freeze_startup_objects)
        if self.draw_pool is not None:
            # start the drawing processes from a thread: the process server may still be
            # importing torch, and the UI must not wait for it; until they are up
            # (`draw_ready`), panels draw in the plot thread
            import threading

            threading.Thread(target=self._warm_draw_pool, name="paramlab-draw-warm",
                             daemon=True).start()
        if self._open_paths:  # one worker, so they appear in the order given
            paths = [Path(p) for p in self._open_paths]
            self.run_worker(lambda: [self._load_record(p, select=p == paths[-1])
                                     for p in paths], thread=True, group="records",
                            exit_on_error=False)

    def _freeze_startup_objects(self) -> None:
        """Move what start-up made (modules, widgets: most of the ~150,000 objects the
        garbage collector tracks) out of its reach: a full collection over them took
        70-120 ms on the UI thread, a key's worth of latency, every few seconds while
        runs stream. Frozen objects are still freed when no longer referenced."""
        import gc

        gc.collect()
        gc.freeze()

    # ------------------------------------------------------------------ runs

    def launch(self, scenario: Scenario, params: Params, *, preset: str = "default",
               seed: int = 0, device: str = "auto", threads: int | None = None) -> RunView:
        """Start a run in its own thread, or process (raises ValueError for a bad device)."""
        handle = self.runner.start(scenario, params, preset=preset, seed=seed, device=device,
                                   on_finish=self._run_finished, display_cap=self.display_cap,
                                   isolate=self.isolate, nice=self.run_nice, threads=threads)
        item = RunView(scenario, params, seed, preset, handle=handle)
        self.items.append(item)
        self.main_screen.post_message(RunsChanged(item))
        return item

    def _run_finished(self, handle: RunHandle) -> None:
        # called from the run's worker thread: post_message is thread-safe
        self.post_message(RunFinished(handle.run_id))

    def on_run_finished(self, message: RunFinished) -> None:
        item = next((i for i in self.items if i.run_id == message.run_id), None)
        if item is None:
            return
        verdict = item.verdict
        if verdict is not None:
            self.notify(f"{item.short_id} {verdict.label}: {verdict.summary}",
                        title=f"{item.scenario_id} done", timeout=6)
        elif item.status != "cancelled":
            self.notify(f"{item.short_id}: {item.reason or item.status}",
                        title=f"{item.scenario_id} {item.status}", severity="error",
                        timeout=8)
        self.main_screen.post_message(RunFinished(message.run_id))  # the screen updates its row

    def active_runs(self) -> list[RunView]:
        return [i for i in self.items if not i.finished]

    def find(self, key: str) -> RunView | None:
        return next((i for i in self.items if i.key == key), None)

    # ------------------------------------------------------------------ records

    def open_record(self, path: str | Path, select: bool = True) -> None:
        """Replay a record into a new row, read and re-checked in a worker thread."""
        path = Path(path)
        existing = next((i for i in self.items if i.path is not None
                         and i.path.resolve() == path.resolve()), None)
        if existing is not None:
            self.main_screen.post_message(RunsChanged(existing, select=select))
            return
        self.run_worker(lambda: self._load_record(path, select), thread=True,
                        group="records", exit_on_error=False)

    def _load_record(self, path: Path, select: bool) -> None:
        try:
            r = replay(path, self.load_scenario)
        except InputError as exc:
            self.post_message(RecordFailed(str(path), str(exc)))
            return
        rec, full = r.record, r.history
        history = full if len(full) < self.display_cap else full.capped(self.display_cap)
        footer = rec.footer or {}
        item = RunView(r.scenario, r.params, int(rec.header.get("seed", 0)),
                       str(rec.header.get("preset", "default")), replay_history=history,
                       replay_status="running" if r.comparison == STILL_RUNNING
                       else rec.status, replay_verdict=r.verdict,
                       replay_elapsed=footer.get("elapsed", rec.last_t),
                       replay_reason=footer.get("reason", "") or "",
                       replay_error=footer.get("error"), replay_note=r.note,
                       record_path=path, run_id_=rec.run_id)
        self.call_from_thread(self._add_replayed, item, select)

    def _add_replayed(self, item: RunView, select: bool) -> None:
        self.items.append(item)
        self.main_screen.post_message(RunsChanged(item, select=select))

    def on_record_failed(self, message: RecordFailed) -> None:
        self.notify(message.message, title="cannot open record", severity="error",
                    timeout=8)

    # ------------------------------------------------------------------ actions

    def action_help(self) -> None:
        from paramlab.console.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_records(self) -> None:
        from paramlab.console.tui.screens.records import RecordsScreen

        if not isinstance(self.screen, RecordsScreen):
            self.push_screen(RecordsScreen(self.runs_dir))

    def active_sweeps(self) -> list:
        return [s for s in self.sweeps if not s.finished]

    async def action_quit(self) -> None:
        active = self.active_runs() + self.active_sweeps()
        if not active:
            self.exit(0)
            return
        from paramlab.console.tui.screens.confirm_quit import ConfirmQuit

        def answer(yes: bool | None) -> None:
            if yes:
                self.cancel_all_and_exit()

        self.push_screen(ConfirmQuit(len(active)), answer)

    def cancel_all_and_exit(self) -> None:
        """Cancel live runs and give them a moment to write their footers."""
        for item in self.active_runs():
            item.cancel()
        for sweep in self.active_sweeps():
            sweep.cancel()
        deadline = time.monotonic() + 3.0
        for item in self.items:
            if item.handle is not None:
                item.handle.wait(max(0.0, deadline - time.monotonic()))
        for sweep in self.sweeps:  # a cancelled sweep marks its points and writes its manifest
            sweep.wait(max(0.0, deadline + 2.0 - time.monotonic()))
        self.exit(0)


def run_app(runs_dir: str | None = None, open_paths: Sequence[str] = ()) -> int:
    app = ParamlabApp(runs_dir=runs_dir, open_paths=open_paths)
    code = app.run()
    return code or 0


__all__ = ["FINAL_STATUSES", "ParamlabApp", "RunView", "run_app"]
