"""A Lambda Runtime API emulator with an RIE-compatible invoke side, for tests, the bench and
``fastrt emulate``. Never imported by the runtime itself.

    from fastrt.emulator import Emulator, Fault, Result
"""

from fastrt.emulator.emulator import Emulator
from fastrt.emulator.faults import Fault
from fastrt.emulator.records import Invocation, RequestRecord, Result
from fastrt.emulator.supervisor import Supervisor

__all__ = ["Emulator", "Fault", "Invocation", "RequestRecord", "Result", "Supervisor"]
