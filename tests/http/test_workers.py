"""Query worker processes: answers of any size come back whole, to the job that asked, on either
event loop uvicorn may run (asyncio's or uvloop); and the server's access log can be turned off."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import uvloop
from live import LiveServer, citydip_server

from graph.store.embedded import Store
from graph.store.execution import QueryJob, WorkerPool, run_job

LOOPS = {"asyncio": asyncio.run, "uvloop": uvloop.run}
ALL_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
LABELS = ("SELECT ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label "
          "FILTER (STRSTARTS(STR(?s), \"{prefix}\")) }")


def _in_pool(store: Store, jobs: list[QueryJob], size: int = 2) -> list:
    async def main():
        pool = WorkerPool(store.raw, None, size, timeout=30)
        await pool.start()
        try:
            return await asyncio.gather(*(pool.run(job) for job in jobs))
        finally:
            pool.close()
    return main()


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_an_answer_larger_than_the_socket_buffer_arrives_whole(store: Store, loop: str) -> None:
    job = QueryJob(ALL_TRIPLES, format="nt", max_rows=100_000)
    (outcome,) = LOOPS[loop](_in_pool(store, [job]))
    expected = run_job(store.raw, job)
    assert outcome.status == 200
    assert len(outcome.body) > 512 * 1024  # several reads of the socket
    assert outcome.body == expected.body


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_concurrent_jobs_each_get_their_own_answer(store: Store, loop: str) -> None:
    prefixes = [f"https://w3id.org/citydiplomacy/id/{kind}/" for kind in
                ("city", "country", "person", "school", "university", "agreement", "event",
                 "prefecture", "state", "organization")]
    jobs = [QueryJob(LABELS.replace("{prefix}", p), format="tsv") for p in prefixes * 4]
    outcomes = LOOPS[loop](_in_pool(store, jobs))
    for job, outcome in zip(jobs, outcomes, strict=True):
        assert outcome.status == 200
        assert outcome.body == run_job(store.raw, job).body
    assert len({o.body for o in outcomes}) == len(prefixes)


def _requests_logged(server: LiveServer) -> bool:
    assert httpx.get(server.url + "/health", timeout=30).status_code == 200
    return '"GET /health HTTP/1.1" 200' in server.log.read_text(errors="replace")


def test_the_access_log_is_on_by_default(live_server: LiveServer) -> None:
    assert _requests_logged(live_server)


def test_the_access_log_can_be_turned_off() -> None:
    with citydip_server({"CITYDIP_ACCESS_LOG": "false"}) as quiet:
        assert not _requests_logged(quiet)
        assert "serving on" in quiet.log.read_text(errors="replace")


def test_a_job_may_carry_its_own_time_limit(store: Store) -> None:
    """The server's background counts run longer than a visitor's query may (a job's own
    `timeout`, CITYDIP_DERIVED_QUERY_TIMEOUT); a job without one keeps the pool's."""
    from graph.store.execution import QueryTimeout

    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"  # seconds on the report

    async def main():
        pool = WorkerPool(store.raw, None, 2, timeout=0.2)
        await pool.start()
        try:
            with pytest.raises(QueryTimeout, match="CITYDIP_QUERY_TIMEOUT"):
                await pool.run(QueryJob(slow, format="json"))
            longer = await pool.run(QueryJob(slow, format="json", timeout=120))
            with pytest.raises(QueryTimeout, match="CITYDIP_DERIVED_QUERY_TIMEOUT"):
                await pool.run(QueryJob(slow, format="json", timeout=0.1))
            return longer
        finally:
            pool.close()

    longer = asyncio.run(main())
    assert longer.status == 200 and longer.seconds > 0.2  # past the pool's own limit


def test_a_job_waits_for_a_worker_no_longer_than_its_time_limit(store: Store) -> None:
    """Queued behind a longer job, a visitor's query is refused as overloaded (503 with
    Retry-After) once it has waited as long as it may run, while the job ahead still runs."""
    from graph.store.execution import Overloaded

    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"  # seconds on the report

    async def main():
        pool = WorkerPool(store.raw, None, 1, timeout=0.3)
        await pool.start()
        try:
            ahead = asyncio.create_task(pool.run(QueryJob(slow, format="json", timeout=120)))
            await asyncio.sleep(0.1)  # the one worker is taken
            with pytest.raises(Overloaded, match="waited 0.3 s for a query worker"):
                await pool.run(QueryJob("ASK {}", format="json"))
            still_running = not ahead.done()
            ahead.cancel()
            return still_running, pool.waiting
        finally:
            pool.close()

    still_running, waiting = asyncio.run(main())
    assert still_running and waiting == 0
