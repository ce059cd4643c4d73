"""A form generated from a scenario's `Params`: one input per field with its default and
allowed range as a hint, a preset picker, seed and device. Every edit is validated with
the same code (and so the same messages) as `paramlab run --set`; errors show under
their field and a form with errors does not launch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from paramlab.console.core.inputs import InputError, parse_seed, parse_threads
from paramlab.console.render.text import fmt_param
from paramlab.scenarios.base import ParamError, Params, ParamSpec, Scenario


def edit_text(value: Any) -> str:
    """A param value as the form's field shows it (6 significant digits)."""
    return fmt_param(value, digits=6)


@dataclass
class LaunchSpec:
    params: Params
    preset: str
    seed: int
    device: str
    threads: int | None = None


class ParamForm(Vertical):
    class LaunchRequested(Message):
        """Enter in a field or the Run button."""

    class SweepRequested(Message):
        """The Sweep button."""

    def __init__(self, scenario: Scenario, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.scenario = scenario
        self.specs: list[ParamSpec] = scenario.params.specs()
        self.preset = "quick" if "quick" in scenario.presets else "default"

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        sc = self.scenario
        with Horizontal(classes="field form-top"):
            yield Label("preset", classes="name")
            yield Select([(n, n) for n in sc.preset_names()], value=self.preset,
                         allow_blank=False, id="preset", classes="value", compact=True)
            yield Label("seed", classes="name short")
            yield Input("0", id="seed", classes="seed", compact=True)
            yield Label("threads", classes="name short")
            yield Input("", id="threads", classes="seed", compact=True, placeholder="auto")
            if sc.uses_torch:
                yield Label("device", classes="name short")
                yield Select([(d, d) for d in ("auto", "cpu", "cuda")], value="auto",
                             allow_blank=False, id="device", classes="value", compact=True)
        yield Static("", id="e-seed", classes="error", markup=False)
        yield Static("", id="e-threads", classes="error", markup=False)
        values = self._preset_values(self.preset)
        for spec in self.specs:
            with Horizontal(classes="field"):
                yield Label(spec.name, classes="name")
                options = spec.choices if spec.choices is not None else (
                    (True, False) if spec.kind is bool else None)
                if options is not None:
                    yield Select([(edit_text(c), edit_text(c)) for c in options],
                                 value=edit_text(values[spec.name]), allow_blank=False,
                                 id=f"p-{spec.name}", classes="value", compact=True)
                else:
                    yield Input(edit_text(values[spec.name]), id=f"p-{spec.name}",
                                classes="value", placeholder=edit_text(spec.default),
                                compact=True)
                hint = Static(self._hint(spec), classes="hint", markup=False)
                hint.tooltip = f"{spec.name}: {spec.help} ({spec.allowed()}, default " \
                               f"{edit_text(spec.default)})"
                yield hint
            yield Static("", id=f"e-{spec.name}", classes="error", markup=False)
        yield Static("", id="form-error", classes="error", markup=False)
        with Horizontal(classes="form-buttons"):
            yield Button("Run (r)", id="run-button", variant="primary", compact=True)
            yield Button("Sweep (w)", id="sweep-button", compact=True)
            yield Button("Defaults", id="reset-button", compact=True)

    @staticmethod
    def _hint(spec: ParamSpec) -> str:
        allowed = spec.allowed().replace("an integer in", "int").replace("a number in", "")
        return f"{allowed.strip()}, default {edit_text(spec.default)}: {spec.help}"

    def _preset_values(self, preset: str) -> dict[str, Any]:
        values = {s.name: s.default for s in self.specs}
        values.update(self.scenario.presets.get(preset, {}))
        return values

    # ------------------------------------------------------------------ values

    def _field_text(self, name: str) -> str:
        widget = self.query_one(f"#p-{name}")
        if isinstance(widget, Select):
            return str(widget.value)
        return widget.value  # type: ignore[attr-defined]

    def overrides(self) -> dict[str, str]:
        """Field texts that differ from the chosen preset (what `--set` would say)."""
        base = self._preset_values(self.preset)
        return {s.name: text for s in self.specs
                if (text := self._field_text(s.name).strip()) != edit_text(base[s.name])}

    def apply_preset(self, preset: str) -> None:
        self.preset = preset
        for name, value in self._preset_values(preset).items():
            widget = self.query_one(f"#p-{name}")
            widget.value = edit_text(value)  # type: ignore[attr-defined]
        self.validate()

    def validate(self) -> LaunchSpec | None:
        """Build the params as the CLI would; show each message under its field."""
        errors: dict[str, list[str]] = {}
        params = seed = threads = None
        try:
            params = self.scenario.make_params(self.preset, self.overrides())
        except ParamError as exc:
            for line in str(exc).splitlines():
                name = line.split(":", 1)[0]
                target = name if name in {s.name for s in self.specs} else "form-error"
                errors.setdefault(target, []).append(line)
        try:
            seed = parse_seed(self.query_one("#seed", Input).value, "seed")
        except InputError as exc:
            errors["seed"] = [str(exc)]
        try:
            threads = parse_threads(self.query_one("#threads", Input).value, "threads")
        except InputError as exc:
            errors["threads"] = [str(exc)]
        for target in ["seed", "threads", "form-error", *(s.name for s in self.specs)]:
            node_id = target if target == "form-error" else f"e-{target}"
            box = self.query_one(f"#{node_id}", Static)
            text = "\n".join(errors.get(target, []))
            box.update(text)
            box.set_class(bool(text), "shown")
            if target != "form-error":
                try:
                    own = target in ("seed", "threads")
                    self.query_one(f"#{target}" if own else f"#p-{target}").set_class(
                        bool(text), "-invalid")
                except Exception:
                    pass
        if errors or params is None or seed is None:
            return None
        device = "auto"
        if self.scenario.uses_torch:
            device = str(self.query_one("#device", Select).value)
        return LaunchSpec(params, self.preset, seed, device, threads)

    def show_error(self, message: str) -> None:
        box = self.query_one("#form-error", Static)
        box.update(message)
        box.set_class(True, "shown")

    @property
    def errors(self) -> list[str]:
        return [str(s.content) for s in self.query(".error.shown").results(Static)]

    # ------------------------------------------------------------------ events

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.validate()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.LaunchRequested())

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "preset" and str(event.value) != self.preset:
            self.apply_preset(str(event.value))
        else:
            self.validate()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "run-button":
            self.post_message(self.LaunchRequested())
        elif event.button.id == "sweep-button":
            self.post_message(self.SweepRequested())
        elif event.button.id == "reset-button":
            self.query_one("#preset", Select).value = "default"
            self.apply_preset("default")
