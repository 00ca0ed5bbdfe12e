"""The circuit-breaker state machine (Resilience4j semantics), pure and synchronous.

The memory backend runs it under a lock; ``redis.py`` carries the same machine as a Lua
script. Keeping it free of I/O lets property tests compare it with a naive model.
"""

from __future__ import annotations

from collections import deque

from toolwire.state._base import Admission, BreakerConfig, BreakerState, Outcome, Transition

# Rejections in half-open carry this hint: the trial is usually quick.
HALF_OPEN_RETRY_AFTER = 1.0
# Frozen dataclasses are slow to build; the no-change answers are shared.
_SAME = {
    s: Transition(old=s, new=s) for s in ("closed", "open", "half_open", "forced_open", "disabled")
}


class BreakerCore:
    """One breaker: its state, sliding window and half-open trial accounting."""

    __slots__ = (
        "_admit",
        "_buckets",
        "_codes",
        "config",
        "f",
        "gen",
        "ho_done",
        "ho_f",
        "ho_permits",
        "ho_s",
        "ho_since",
        "n",
        "opened_at",
        "s",
        "state",
    )

    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self.state: BreakerState = "closed"
        self.gen = 0
        self.opened_at = 0.0
        self._reset_window()
        self.ho_permits = self.ho_done = self.ho_f = self.ho_s = 0
        self.ho_since = 0.0
        self._admit = Admission(allowed=True, state="closed", generation=0)

    def _reset_window(self) -> None:
        self.n = self.f = self.s = 0
        self._codes: deque[tuple[bool, bool]] = deque()
        self._buckets: dict[int, list[int]] = {}

    def _to(self, state: BreakerState, now: float) -> None:
        self.state = state
        self.gen += 1
        self._admit = Admission(allowed=True, state=state, generation=self.gen)
        if state == "open":
            self.opened_at = now
        elif state == "half_open":
            self.ho_permits = self.config.half_open_calls
            self.ho_done = self.ho_f = self.ho_s = 0
            self.ho_since = now
        elif state == "closed":
            self._reset_window()

    def acquire(self, now: float) -> Admission:
        cfg = self.config
        if self.state in ("closed", "disabled"):
            return self._admit
        if self.state == "forced_open":
            return Admission(allowed=False, state=self.state, generation=self.gen)
        if self.state == "open":
            left = self.opened_at + cfg.open_for - now
            if left > 0:
                return Admission(allowed=False, state="open", generation=self.gen, retry_after=left)
            self._to("half_open", now)
        # half-open: exactly ``half_open_calls`` permits; trials lost without a record (a
        # crashed process) are given back after another ``open_for``.
        if self.ho_permits <= 0 and now - self.ho_since >= cfg.open_for:
            self._to("half_open", now)
        if self.ho_permits > 0:
            self.ho_permits -= 1
            return Admission(allowed=True, state="half_open", generation=self.gen)
        return Admission(
            allowed=False,
            state="half_open",
            generation=self.gen,
            retry_after=min(HALF_OPEN_RETRY_AFTER, cfg.open_for),
        )

    def record(self, now: float, generation: int, outcome: Outcome, slow: bool) -> Transition:
        old = self.state
        if generation != self.gen or old not in ("closed", "half_open"):
            return _SAME[old]
        cfg = self.config
        failed = outcome == "failure"
        if old == "half_open":
            if outcome == "ignore":
                self.ho_permits += 1
                return Transition(old=old, new=old)
            self.ho_done += 1
            self.ho_f += failed
            self.ho_s += slow
            if self.ho_done >= cfg.half_open_calls:
                tripped = _tripped(self.ho_done, self.ho_f, self.ho_s, cfg)
                self._to("open" if tripped else "closed", now)
            return Transition(old=old, new=self.state)
        if outcome == "ignore":
            return _SAME[old]
        self._add(now, failed, slow)
        # a count window can never hold more than ``window`` calls
        need = min(cfg.min_calls, cfg.window) if cfg.window_type == "count" else cfg.min_calls
        if self.n >= need and _tripped(self.n, self.f, self.s, cfg):
            self._to("open", now)
            return Transition(old=old, new="open")
        return _SAME[old]

    def _add(self, now: float, failed: bool, slow: bool) -> None:
        cfg = self.config
        if cfg.window_type == "count":
            self._codes.append((failed, slow))
            self.n += 1
            self.f += failed
            self.s += slow
            if len(self._codes) > cfg.window:
                old_f, old_s = self._codes.popleft()
                self.n -= 1
                self.f -= old_f
                self.s -= old_s
            return
        sec = int(now)
        bucket = self._buckets.setdefault(sec, [0, 0, 0])
        bucket[0] += 1
        bucket[1] += failed
        bucket[2] += slow
        horizon = sec - cfg.window
        for key in [k for k in self._buckets if k <= horizon]:
            del self._buckets[key]
        self.n = sum(b[0] for b in self._buckets.values())
        self.f = sum(b[1] for b in self._buckets.values())
        self.s = sum(b[2] for b in self._buckets.values())

    def reconfigure(self, config: BreakerConfig) -> None:
        """Apply new settings, keeping the state and the calls recorded so far."""
        old = self.config
        self.config = config
        if config.window_type != old.window_type:
            self._reset_window()  # counts of one kind of window mean nothing in the other
            return
        while len(self._codes) > config.window:
            old_f, old_s = self._codes.popleft()
            self.n -= 1
            self.f -= old_f
            self.s -= old_s

    def force(self, state: BreakerState | None, now: float) -> None:
        self._to(state or "closed", now)


def _tripped(n: int, f: int, s: int, cfg: BreakerConfig) -> bool:
    return n > 0 and (f / n >= cfg.failure_rate or s / n >= cfg.slow_call_rate)
