"""State per account and region, created on first use, on moto's BackendDict.

moto's core owns the account -> region -> backend mapping, so `moto.core.base_backend.BackendDict`
resets (such as the end of `mock_aws`) reset this state too.
"""

import threading
from typing import Generic, Iterator, TypeVar

from moto.core.base_backend import BackendDict

State = TypeVar("State")


class RegionalState(Generic[State]):
    """One `factory(region_name, account_id)` object per account and region, for any region name."""

    def __init__(self, factory: type, service_name: str):
        self._backends = BackendDict(factory, service_name)
        self._factory = factory
        self._lock = threading.Lock()

    def get(self, account_id: str, region: str) -> State:
        # The fast path reads the plain dicts: BackendDict's own lookups take a lock and copy keys.
        account = dict.get(self._backends, account_id)
        if account is not None:
            state = dict.get(account, region)
            if state is not None:
                return state
        account = self._backends[account_id]
        if region not in account:
            # moto only creates backends for regions botocore lists; the emulator serves any region
            # a client names, because the endpoint is local.
            with self._lock:
                if region not in account:
                    account[region] = self._factory(region, account_id)
        return account[region]

    def put(self, account_id: str, region: str, state: State) -> None:
        """Install `state` as the state of an account and region, as a restore from disk does."""
        with self._lock:
            self._backends[account_id][region] = state

    def items(self) -> Iterator[tuple[str, str, State]]:
        """Yield (account id, region, state) for every state created so far."""
        for account_id, account in list(self._backends.items()):
            for region, state in list(account.items()):
                yield account_id, region, state

    def reset(self) -> None:
        """Drop every account's state."""
        self._backends.clear()
