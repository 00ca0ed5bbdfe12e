"""The Redis backend's Lua scripts, each beside the decoder of its reply.

Every read-then-write of the backend is one script (one round trip, atomic on the server).
``SCRIPTS`` names them all: the backend loads them together before its first call.
"""

from __future__ import annotations

from toolwire.state._lua.breaker import ACQUIRE, FORCE, RECORD
from toolwire.state._lua.budget import BUDGET
from toolwire.state._lua.call import ADMIT, SETTLE
from toolwire.state._lua.rate import RATE
from toolwire.state._lua.slots import SLOT_ACQUIRE, SLOT_RELEASE, SLOT_RENEW
from toolwire.state._lua.store import GET_OR_LOCK, IDEM_BEGIN, IDEM_FINISH, RELEASE, SET_UNLOCK

SCRIPTS: dict[str, str] = {
    "acquire": ACQUIRE,
    "record": RECORD,
    "force": FORCE,
    "rate": RATE,
    "release": RELEASE,
    "get_or_lock": GET_OR_LOCK,
    "set_unlock": SET_UNLOCK,
    "idem_begin": IDEM_BEGIN,
    "idem_finish": IDEM_FINISH,
    "slot_acquire": SLOT_ACQUIRE,
    "slot_release": SLOT_RELEASE,
    "slot_renew": SLOT_RENEW,
    "admit": ADMIT,
    "settle": SETTLE,
    "budget": BUDGET,
}
