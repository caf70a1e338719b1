"""The kept pages: bounded in bytes (least recently used first out), kept across writes that
do not reach them."""

from __future__ import annotations

from fastapi import Response

from server.page_cache import PageCache


def page(size: int, status: int = 200) -> Response:
    return Response(b"x" * size, status_code=status, media_type="text/html")


def test_past_the_bound_the_least_recently_used_page_goes():
    cache = PageCache(max_bytes=4000)
    for name in "abc":
        cache.put(1, (name,), page(1000))
    assert cache.get(1, ("a",)) is not None  # a is now the most recent
    cache.put(1, ("d",), page(1000))
    cache.put(1, ("e",), page(1000))
    assert cache.size <= 4000
    assert cache.get(1, ("b",)) is None and cache.get(1, ("a",)) is not None


def test_a_new_data_version_drops_every_page():
    cache = PageCache(max_bytes=10_000)
    cache.put(1, ("a",), page(10))
    assert cache.get(1, ("a",)) is not None
    assert cache.get(2, ("a",)) is None and cache.size == 0


def test_a_page_made_across_a_commit_an_error_or_a_huge_page_is_not_kept():
    cache = PageCache(max_bytes=10_000)
    cache.get(2, ("x",))
    cache.put(1, ("old",), page(10))  # begun at version 1, finished after version 2 was seen
    cache.put(2, ("missing",), page(10, status=404))
    cache.put(2, ("huge",), page(5000))
    assert all(cache.get(2, (k,)) is None for k in ("old", "missing", "huge"))


def test_zero_keeps_nothing():
    cache = PageCache(max_bytes=0)
    cache.put(0, ("a",), page(1))
    assert cache.get(0, ("a",)) is None


def test_a_write_drops_the_pages_it_reaches_and_every_whole_graph_page():
    cache = PageCache(max_bytes=10_000)
    cache.put(1, ("a",), page(10), about="A")
    cache.put(1, ("b",), page(10), about="B")
    cache.put(1, ("query",), page(10))  # about the whole graph
    cache.advance(1, 2, {"A"})
    assert cache.get(2, ("a",)) is None and cache.get(2, ("query",)) is None
    assert cache.get(2, ("b",)) is not None and cache.size == 10


def test_a_write_not_followed_or_a_missed_version_drops_every_page():
    cache = PageCache(max_bytes=10_000)
    cache.put(1, ("b",), page(10), about="B")
    cache.advance(1, 2, None)  # what the change reached is not known
    assert cache.get(2, ("b",)) is None
    cache.put(2, ("b",), page(10), about="B")
    cache.advance(3, 4, set())  # version 3 was never announced here
    assert cache.get(4, ("b",)) is None and cache.size == 0


def test_a_page_begun_before_writes_that_did_not_reach_it_is_kept():
    cache = PageCache(max_bytes=10_000)
    cache.get(1, ("b",))
    cache.advance(1, 2, {"A"})
    cache.advance(2, 3, set())
    cache.put(1, ("b",), page(10), about="B")
    assert cache.get(3, ("b",)) is not None


def test_a_page_begun_before_a_write_that_reached_it_or_a_version_not_followed_is_not_kept():
    cache = PageCache(max_bytes=10_000)
    cache.get(1, ("b",))
    cache.advance(1, 2, set())
    cache.advance(2, 3, {"B"})
    cache.put(1, ("b",), page(10), about="B")  # version 3 reached it
    cache.put(2, ("b2",), page(10), about="B")
    cache.put(1, ("query",), page(10))  # about the whole graph
    assert all(cache.get(3, (k,)) is None for k in ("b", "b2", "query"))
    cache.advance(3, 4, None)  # what version 4 reached is not known
    cache.put(3, ("c",), page(10), about="C")
    cache.advance(4, 5, set())
    cache.put(3, ("c2",), page(10), about="C")  # from before version 4
    cache.put(4, ("c3",), page(10), about="C")  # from after it
    assert cache.get(5, ("c",)) is None and cache.get(5, ("c2",)) is None
    assert cache.get(5, ("c3",)) is not None
