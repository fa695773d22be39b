"""An in-memory :class:`~clientdock.connections.providers.TokenStore` that checks save-before-use."""

from __future__ import annotations

from clientdock.connections.providers import Tokens
from tests.fakes.base import FakePlatform


class MemoryTokenStore:
    """Holds one connection's tokens; ``saved`` lists every save in order.

    With ``fake``, each save notes how many requests the fake had seen, so a test can prove
    with :meth:`saved_before_use` that no request carried a new token before it was saved.
    """

    def __init__(self, tokens: Tokens, fake: FakePlatform | None = None) -> None:
        self.tokens = tokens
        self.fake = fake
        self.saved: list[Tokens] = []
        self._seen_at_save: list[int] = []

    def current(self) -> Tokens:
        return self.tokens

    def save(self, tokens: Tokens) -> None:
        self.saved.append(tokens)
        self._seen_at_save.append(len(self.fake.requests) if self.fake is not None else 0)
        self.tokens = tokens

    def saved_before_use(self) -> bool:
        """True when no request before a save carried that save's access or refresh token."""
        assert self.fake is not None
        requests = list(self.fake.requests)
        for tokens, seen in zip(self.saved, self._seen_at_save, strict=True):
            for request in requests[:seen]:
                if request.headers.get("authorization") == f"Bearer {tokens.access_token}":
                    return False
                if tokens.refresh_token in request.body:
                    return False
        return True
