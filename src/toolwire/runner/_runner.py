"""The model <-> tool loop: ask, execute the calls, feed the results back, until an answer.

Each step sends the (selected) tools to the model, takes its calls, executes them
concurrently through the toolbox's runtime (validation and policies included) and appends the
results in the model's own form — ``role: "tool"``, the seed's legacy ``role: "function"``, or
its text format. It ends with a final answer, at ``max_steps``, when the repair budget is
spent, on a model error, or when a call needs a person's approval (then it can be resumed).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from toolwire._calls import (
    CallFailed,
    CallParseError,
    Parsed,
    StepFinished,
    ToolCall,
    ToolResult,
    ToolResultEvent,
)
from toolwire._context import Caller
from toolwire._errors import ToolError
from toolwire._spec import ToolSpec
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool
from toolwire.models._base import (
    Message,
    Model,
    ModelError,
    ModelOptions,
    ModelTurn,
    TurnDone,
    last_user_text,
)
from toolwire.runner._events import (
    ApprovalRequired,
    CallQuarantined,
    RunEvent,
    RunFinished,
    RunResult,
    Step,
    StepStarted,
    StopReason,
)
from toolwire.runner._select import Scorer, filter_specs, top_k
from toolwire.runner._state import RunState, coerce_state, in_order, merge_usage

# Failures the model can fix by calling again differently; they spend the repair budget.
_REPAIRABLE = frozenset({"invalid_arguments", "unknown_tool", "too_large", "execution_error"})


class Runner:
    """Runs a model with a toolbox until it answers.

    Example::

        box = tw.Toolbox([get_weather])
        runner = tw.Runner(model=Offline(), tools=box, max_steps=4)
        result = await runner.run("北京今天气温如何?")
        print(result.final_text, result.stop_reason)

    ``tool_choice`` ("auto", "required", "none" or a tool name) applies to the first step;
    later steps use "auto" so that a forced call cannot loop forever. ``repair_budget`` is how
    many failed calls (invalid arguments, unknown tools, tool errors, unparseable calls) the
    model may try to repair in one run; transport retries are the model client's own business.
    ``top_k`` passes only the k most relevant tools per request; ``include``/``exclude``
    (names or globs) and ``tags`` filter them first.
    """

    def __init__(
        self,
        *,
        model: Model,
        tools: Toolbox | Sequence[Tool] = (),
        max_steps: int = 8,
        instructions: str | None = None,
        tool_choice: str = "auto",
        parallel_tool_calls: bool = True,
        repair_budget: int = 3,
        top_k: int | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        tags: Sequence[str] = (),
        scorer: Scorer | None = None,
        caller: Caller | None = None,
        stream: bool = False,
    ) -> None:
        if max_steps < 1:
            raise ValueError("max_steps must be >= 1")
        if repair_budget < 0:
            raise ValueError("repair_budget must be >= 0")
        self.model = model
        self.box = tools if isinstance(tools, Toolbox) else Toolbox(list(tools))
        self.max_steps = max_steps
        self.instructions = instructions
        self.tool_choice = tool_choice
        self.parallel_tool_calls = parallel_tool_calls
        self.repair_budget = repair_budget
        self.top_k = top_k
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.tags = tuple(tags)
        self.scorer = scorer
        self.caller = caller
        self.use_stream = stream

    # --- public entry points -----------------------------------------------------------

    async def run(self, prompt: str | Sequence[Message]) -> RunResult:
        """Run until a final answer, a pause or a limit; never raises for tool failures."""
        result: RunResult | None = None
        async for event in self._drive(self._start(prompt), None, stream=self.use_stream):
            if isinstance(event, RunFinished):
                result = event.result
        assert result is not None
        return result

    async def stream(self, prompt: str | Sequence[Message]) -> AsyncIterator[RunEvent]:
        """Yield events as they happen; the last one is :class:`RunFinished`."""
        async for event in self._drive(self._start(prompt), None, stream=True):
            yield event

    async def resume(
        self,
        state: RunState | dict[str, Any] | str | bytes,
        *,
        approve: Sequence[str] = (),
        deny: Sequence[str] = (),
        reason: str = "A person denied this call.",
    ) -> RunResult:
        """Continue a paused run: execute the approved calls (by id), refuse the denied ones.

        Calls neither approved nor denied stay pending and the run pauses again.
        """
        decision = _Decision(frozenset(approve), frozenset(deny), reason)
        result: RunResult | None = None
        async for event in self._drive(coerce_state(state), decision, stream=self.use_stream):
            if isinstance(event, RunFinished):
                result = event.result
        assert result is not None
        return result

    def resume_stream(
        self,
        state: RunState | dict[str, Any] | str | bytes,
        *,
        approve: Sequence[str] = (),
        deny: Sequence[str] = (),
        reason: str = "A person denied this call.",
    ) -> AsyncIterator[RunEvent]:
        decision = _Decision(frozenset(approve), frozenset(deny), reason)
        return self._drive(coerce_state(state), decision, stream=True)

    # --- the loop ----------------------------------------------------------------------

    def _start(self, prompt: str | Sequence[Message]) -> RunState:
        messages: list[Message] = []
        if self.instructions:
            messages.append({"role": "system", "content": self.instructions})
        if isinstance(prompt, str):
            messages.append({"role": "user", "content": prompt})
        else:
            messages.extend(dict(m) for m in prompt)
        return RunState(messages=tuple(messages))

    async def _drive(
        self, state: RunState, decision: _Decision | None, *, stream: bool
    ) -> AsyncIterator[RunEvent]:
        run = _Run(state)
        if decision is not None and state.pending:
            stopped = None
            async for event in self._finish_paused(run, decision):
                if isinstance(event, RunFinished):
                    stopped = event
                yield event
            if stopped is not None:
                return
        while True:
            if run.steps_taken >= self.max_steps:
                yield RunFinished(result=run.result("max_steps", self.model))
                return
            step_no = run.steps_taken + 1
            specs = await self._tools_for(run.messages)
            options = ModelOptions(
                tool_choice=self.tool_choice if step_no == 1 else "auto",
                parallel_tool_calls=self.parallel_tool_calls,
                stream=stream,
            )
            yield StepStarted(step=step_no, model=self.model.describe(), tools=_names(specs))
            started = time.perf_counter()
            turn: ModelTurn | None = None
            try:
                if stream:
                    async for item in self.model.stream(run.messages, specs, options):
                        if isinstance(item, TurnDone):
                            turn = item.turn
                        elif not isinstance(item, CallFailed):
                            yield item
                else:
                    turn = await self.model.complete(run.messages, specs, options)
            except ModelError as exc:
                yield RunFinished(
                    result=run.result(
                        "model_error", self.model, error=exc.to_error(), resumable=True
                    )
                )
                return
            assert turn is not None
            model_s = time.perf_counter() - started
            run.steps_taken = step_no
            run.usage = merge_usage(run.usage, turn.usage)
            parsed = turn.parsed
            run.messages.extend(self.model.assistant_messages(turn))
            for error in parsed.errors:
                yield CallQuarantined(step=step_no, error=error)
            calls = list(parsed.calls)
            if not calls and not parsed.errors:
                run.record(
                    Step(
                        index=step_no,
                        model=turn.model or self.model.describe(),
                        content=parsed.content,
                        finish_reason=turn.finish_reason,
                        usage=turn.usage,
                        model_s=model_s,
                    )
                )
                yield StepFinished(step=step_no, finish_reason=turn.finish_reason, usage=turn.usage)
                yield RunFinished(
                    result=run.result("final_answer", self.model, final=parsed.content)
                )
                return

            # One look at the toolbox per step instead of a lookup per call: a turn of 1,000
            # calls to tools that never need approval skips the per-call check entirely.
            held = [c for c in calls if self._needs_approval(c)] if self._approvals() else []
            runnable = [c for c in calls if c not in held] if held else calls
            started = time.perf_counter()
            results = await self._execute(runnable)
            tools_s = time.perf_counter() - started
            for result in results:
                yield ToolResultEvent(result=result)
            step = Step(
                index=step_no,
                model=turn.model or self.model.describe(),
                content=parsed.content,
                calls=tuple(calls),
                results=tuple(results),
                quarantined=parsed.errors,
                finish_reason=turn.finish_reason,
                usage=turn.usage,
                model_s=model_s,
                tools_s=tools_s,
            )
            run.record(step)
            if held:
                run.step_calls, run.done, run.pending = calls, results, held
                # counted against the repair budget when written, after the decision
                run.quarantined = list(parsed.errors)
                yield ApprovalRequired(calls=tuple(held))
                yield StepFinished(
                    step=step_no, finish_reason="approval_required", usage=turn.usage
                )
                yield RunFinished(
                    result=run.result("approval_required", self.model, resumable=True)
                )
                return
            self._write_results(run, calls, results, parsed.errors)
            yield StepFinished(step=step_no, finish_reason=turn.finish_reason, usage=turn.usage)
            if run.repairs_used > self.repair_budget:
                yield RunFinished(result=run.result("repair_budget_exhausted", self.model))
                return

    async def _finish_paused(self, run: _Run, decision: _Decision) -> AsyncIterator[RunEvent]:
        approved = [c for c in run.pending if c.id in decision.approve]
        denied = [c for c in run.pending if c.id in decision.deny]
        undecided = [c for c in run.pending if c not in approved and c not in denied]
        started = time.perf_counter()
        results = await self._execute(approved)
        results += [_denied(c, decision.reason) for c in denied]
        for result in results:
            yield ToolResultEvent(result=result)
        run.done = [*run.done, *results]
        run.pending = undecided
        if run.steps:
            last = run.steps[-1]
            run.steps[-1] = replace(
                last,
                results=(*last.results, *results),
                tools_s=last.tools_s + time.perf_counter() - started,
            )
        else:
            run.steps.append(
                Step(
                    index=run.steps_taken,
                    model=self.model.describe(),
                    content="",
                    calls=tuple(run.step_calls),
                    results=tuple(results),
                )
            )
        if undecided:
            yield ApprovalRequired(calls=tuple(undecided))
            yield RunFinished(result=run.result("approval_required", self.model, resumable=True))
            return
        self._write_results(
            run, run.step_calls, in_order(run.step_calls, run.done), run.quarantined
        )
        run.step_calls, run.done, run.quarantined = [], [], []
        if run.repairs_used > self.repair_budget:
            yield RunFinished(result=run.result("repair_budget_exhausted", self.model))

    def _write_results(
        self,
        run: _Run,
        calls: Sequence[ToolCall],
        results: Sequence[ToolResult],
        quarantined: Sequence[CallParseError],
    ) -> None:
        if calls:
            turn = ModelTurn(parsed=Parsed(calls=tuple(calls)))
            run.messages.extend(
                self.model.result_messages(turn, list(zip(calls, results, strict=True)))
            )
        run.repairs_used += sum(
            1 for r in results if not r.ok and r.error is not None and r.error.kind in _REPAIRABLE
        )
        if quarantined:
            # The broken call never enters the history as a call (servers reject malformed
            # tool_calls, poisoning every later request); the model is told about it instead.
            run.repairs_used += len(quarantined)
            run.messages.append({"role": "user", "content": _quarantine_note(quarantined)})

    async def _execute(self, calls: Sequence[ToolCall]) -> list[ToolResult]:
        if not calls:
            return []
        if self.parallel_tool_calls or len(calls) == 1:
            return await self.box.run(list(calls), caller=self.caller)
        results: list[ToolResult] = []
        for call in calls:
            results.extend(await self.box.run([call], caller=self.caller))
        return results

    def _approvals(self) -> bool:
        """Whether any tool in the toolbox needs a person's approval (checked per step)."""
        return any(getattr(t, "requires_approval", False) for t in self.box)

    def _needs_approval(self, call: ToolCall) -> bool:
        try:
            tool = self.box.get(call.name)
        except LookupError:
            return False
        return bool(getattr(tool, "requires_approval", False))

    async def _tools_for(self, messages: Sequence[Message]) -> list[ToolSpec]:
        specs = [t.spec for t in self.box]
        if self.include or self.exclude or self.tags:
            specs = filter_specs(specs, include=self.include, exclude=self.exclude, tags=self.tags)
        if self.top_k is not None and len(specs) > self.top_k:
            specs = await top_k(last_user_text(messages), specs, self.top_k, scorer=self.scorer)
        return specs


@dataclass(frozen=True, slots=True)
class _Decision:
    approve: frozenset[str]
    deny: frozenset[str]
    reason: str


class _Run:
    """Mutable bookkeeping of one run (never shared between runs)."""

    __slots__ = (
        "done",
        "messages",
        "pending",
        "quarantined",
        "repairs_used",
        "step_calls",
        "steps",
        "steps_taken",
        "usage",
    )

    def __init__(self, state: RunState) -> None:
        self.messages: list[Message] = [dict(m) for m in state.messages]
        self.steps_taken = state.steps
        self.repairs_used = state.repairs_used
        self.usage: dict[str, int] = dict(state.usage)
        self.step_calls: list[ToolCall] = list(state.step_calls)
        self.done: list[ToolResult] = list(state.done)
        self.pending: list[ToolCall] = list(state.pending)
        self.quarantined: list[CallParseError] = list(state.quarantined)
        self.steps: list[Step] = []

    def record(self, step: Step) -> None:
        self.steps.append(step)

    def result(
        self,
        reason: StopReason,
        model: Model,
        *,
        final: str = "",
        error: ToolError | None = None,
        resumable: bool = False,
    ) -> RunResult:
        state = None
        if resumable:
            state = RunState(
                messages=tuple(self.messages),
                steps=self.steps_taken,
                repairs_used=self.repairs_used,
                usage=dict(self.usage),
                step_calls=tuple(self.step_calls),
                done=tuple(self.done),
                pending=tuple(self.pending),
                quarantined=tuple(self.quarantined),
            )
        if error is None and reason in ("max_steps", "repair_budget_exhausted"):
            error = ToolError(kind="execution_error", message=_STOP_MESSAGES[reason])
        return RunResult(
            final_text=final,
            stop_reason=reason,
            messages=tuple(self.messages),
            steps=tuple(self.steps),
            usage=dict(self.usage),
            state=state,
            error=error,
        )


_STOP_MESSAGES = {
    "max_steps": "The run reached max_steps without a final answer.",
    "repair_budget_exhausted": "The model kept making failing calls; the repair budget is spent.",
}


def _denied(call: ToolCall, reason: str) -> ToolResult:
    return ToolResult(
        call_id=call.id,
        name=call.name,
        ok=False,
        error=ToolError(
            kind="forbidden",
            message=f"{reason} Do not call `{call.name}` with these arguments again; "
            "answer without it or ask the user.",
            details={"approval": "denied"},
        ),
    )


def _quarantine_note(errors: Sequence[CallParseError]) -> str:
    lines = ["[toolwire] These tool calls could not be parsed and were NOT executed:"]
    for error in errors:
        raw = error.raw if len(error.raw) <= 400 else error.raw[:400] + "..."
        name = f" `{error.name}`" if error.name else ""
        lines.append(f"- call{name}: {error.message}. Raw text: {raw}")
    lines.append("Call the tool again with arguments that are one valid JSON object.")
    return "\n".join(lines)


def _names(specs: Sequence[ToolSpec]) -> tuple[str, ...]:
    return tuple(s.name for s in specs)
