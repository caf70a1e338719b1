"""Which endpoint answers are kept (server/kept_queries.py): a text from its second sight, its
patterns parsed once even when two requests bring it at once, never one that changes by itself."""

from __future__ import annotations

import asyncio

from server import kept_queries
from server.kept_queries import Repeats

LOOKUP = "SELECT ?p ?o WHERE { <https://example.org/a> ?p ?o }"


def test_a_text_is_kept_from_its_second_sight() -> None:
    repeats = Repeats()

    async def scenario():
        return [await repeats.reads(LOOKUP) for _ in range(3)]

    first, second, third = asyncio.run(scenario())
    assert first is None
    assert second == third == (("https://example.org/a", None, None),)


def test_two_requests_bringing_a_text_again_at_once_both_get_its_patterns() -> None:
    repeats = Repeats()

    async def scenario():
        await repeats.reads(LOOKUP)
        return await asyncio.gather(*(repeats.reads(LOOKUP) for _ in range(4)))

    assert set(asyncio.run(scenario())) == {(("https://example.org/a", None, None),)}


def test_an_answer_that_changes_by_itself_is_never_kept() -> None:
    repeats = Repeats()

    async def scenario():
        return [await repeats.reads("SELECT (NOW() AS ?t) {}") for _ in range(3)]

    assert asyncio.run(scenario()) == [None, None, None]


def test_what_is_remembered_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(kept_queries, "REMEMBERED", 8)
    repeats = Repeats()

    async def scenario():
        for n in range(20):
            text = f"SELECT * WHERE {{ <https://example.org/{n}> ?p ?o }}"
            await repeats.reads(text)
            await repeats.reads(text)

    asyncio.run(scenario())
    assert len(repeats._reads) == 8 and len(repeats._seen) <= 8  # noqa: SLF001
