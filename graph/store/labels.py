"""The label index: search by label and browse by class, at a cost that grows with the answer.

One module over 400 lines on purpose: building, folding, searching and following writes share
the schema and the folding rule, and must change together; the SQL that follows a write
(FOLLOW_STEPS) writes every table of the schema and sits beside it for that reason.

Why SQLite and not SPARQL: a label search in SPARQL (`FILTER CONTAINS(LCASE(?label), …)`) reads
every label of the graph, and a class listing ordered by label sorts every instance, so both grow
with the graph (6.9 s and 3.0 s at 5M triples). The store's own indexes cannot answer either.
SQLite ships with Python, and its FTS5 full-text engine with the `trigram` tokenizer answers
substring queries of three or more characters from an index, in any script. Shorter needles
(two-character Chinese names such as 高雄, "gd") have an index of their own: `labels_pairs`
holds, for each label, every character and every pair of adjacent characters that are letters
or digits, as words of an FTS5 `unicode61` table, so a one- or two-character needle is one
exact word lookup (a scan of the folded labels took 50–80 ms at a million triples). Only a
short needle with punctuation or a space in it scans. `benchmarks/search.py` measures FTS5
against the scan.

What is folded: case (str.casefold), compatibility forms (NFKC: full-width Latin, half-width
kana), and Latin/Greek/Cyrillic diacritics (the combining marks U+0300–U+036F after NFD, plus
letters that carry their mark in their shape, such as Polish ł). Hangul syllables and Japanese
voiced kana are recomposed untouched: が is not か.

How it stays current: it is built when the store is filled (or when it does not match the
store: its stamp is the store's last applied change and size), and every committed write calls
`apply(changeset)`, which indexes again just the resources the change touched (their labels and
types; the partnership count of the parties). The file lives beside the store
(`<store>.labels.sqlite`), so a restart over an unchanged store reuses it.

The rows also give the browse listing: `members` holds (class, sort key, resource) for every
class of a resource and every superclass of those, so a page of a class is an index range.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from graph.core.namespaces import CD
from graph.core.terms import RDF_TYPE, RDFS_LABEL, RDFS_SUBCLASS_OF

log = logging.getLogger(__name__)

SKOS_ALT = ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel")
PARTY = ox.NamedNode(str(CD["party"]))
LABEL_PREDICATES = (RDFS_LABEL, SKOS_ALT)
WATCHED = {RDFS_LABEL, SKOS_ALT, RDF_TYPE}
SCHEMA_VERSION = "2"
BATCH = 20_000

# Letters whose diacritic is part of the letter (no decomposition in Unicode).
LETTERS = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d",
                         "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i"})
COMBINING = re.compile("[\u0300-\u036f]")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS resources (
  id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, name TEXT, name_lang TEXT, name_zh TEXT,
  sortkey TEXT NOT NULL DEFAULT '', degree INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS labels (
  id INTEGER PRIMARY KEY, resource INTEGER NOT NULL, text TEXT NOT NULL, lang TEXT NOT NULL,
  alt INTEGER NOT NULL, folded TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS labels_fts USING fts5 (
  folded, content='labels', content_rowid='id', tokenize='trigram');
CREATE VIRTUAL TABLE IF NOT EXISTS labels_pairs USING fts5 (
  pairs, content='', tokenize='unicode61 remove_diacritics 0');
CREATE TABLE IF NOT EXISTS types (
  resource INTEGER NOT NULL, class TEXT NOT NULL, PRIMARY KEY (resource, class)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
  class TEXT NOT NULL, sortkey TEXT NOT NULL, resource INTEGER NOT NULL,
  PRIMARY KEY (class, sortkey, resource)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS member_of (
  resource INTEGER NOT NULL, class TEXT NOT NULL, PRIMARY KEY (resource, class)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hierarchy (
  class TEXT NOT NULL, ancestor TEXT NOT NULL, PRIMARY KEY (class, ancestor)) WITHOUT ROWID;
"""
INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS labels_key ON labels (resource, text, lang, alt)",
    "CREATE INDEX IF NOT EXISTS labels_folded ON labels (folded)",
    # A write indexes its resources again and first drops their rows: without this, dropping
    # a resource's class memberships read the whole table (268,114 rows at world scale, most
    # of a write's time).
    "CREATE INDEX IF NOT EXISTS members_resource ON members (resource)",
    # Resources typed with a class itself, counted as one index range: the front page shows
    # them from here while its SPARQL counts are not done (server/front_counts.py); a scan
    # grouping the whole table took 73 ms at a million triples.
    "CREATE INDEX IF NOT EXISTS types_class ON types (class)",
)
"""Kept by every change; dropped while the index is built in bulk, and made again after."""
UNINDEX = ("DROP INDEX IF EXISTS labels_key", "DROP INDEX IF EXISTS labels_folded",
           "DROP INDEX IF EXISTS members_resource", "DROP INDEX IF EXISTS types_class")


def names_sql(where: str = "") -> tuple[str, str]:
    """Each resource's display name (English label, else Chinese, else any) and sort key, set
    for the resources `where` selects (every one without it)."""
    first = "ORDER BY l.alt, l.lang <> 'en', l.lang <> 'zh-hant', l.lang, l.text LIMIT 1"
    return (f"""UPDATE resources SET
            name = (SELECT text FROM labels l WHERE l.resource = resources.id {first}),
            name_lang = (SELECT lang FROM labels l WHERE l.resource = resources.id {first}),
            name_zh = (SELECT text FROM labels l WHERE l.resource = resources.id AND l.alt = 0
                       AND l.lang = 'zh-hant' ORDER BY l.text LIMIT 1)
            {where}""",  # noqa: S608 - fixed fragments
            f"""UPDATE resources SET sortkey = COALESCE(
            (SELECT folded FROM labels l WHERE l.resource = resources.id {first}),
            '~' || iri) {where}""")  # noqa: S608


def member_of_sql(among: str = "") -> str:
    """Each resource's classes and every class above them (`member_of`), for the resources
    whose ids `among` selects (every one without it)."""
    typed = f"WHERE t.resource IN {among}" if among else ""
    own = f"WHERE resource IN {among}" if among else ""
    return ("INSERT OR IGNORE INTO member_of SELECT t.resource, h.ancestor FROM types t "
            f"JOIN hierarchy h ON h.class = t.class {typed} UNION "
            f"SELECT resource, class FROM types {own}")  # noqa: S608 - fixed fragments


# Following a write (LabelIndex.apply says why in one statement): a row inserted into the view
# `follow` runs these steps in its trigger, each over every resource the write touched at once,
# with the rows read from the store as JSON arrays (touched: IRIs; everyone: the touched and the
# parties; labels: [iri, text, lang, alt, folded, pairs]; types: [iri, class]; degrees:
# [iri, n]).
# The full-text tables follow the labels here (there are no triggers on `labels`): a label
# added takes its `pairs` words from the JSON, computed in Python with the rest, and only a
# label dropped calls `pairs` back from SQLite (a contentless table needs the words it drops).
OF_TOUCHED = "(SELECT value FROM json_each(NEW.touched))"
TOUCHED = f"(SELECT id FROM resources WHERE iri IN {OF_TOUCHED})"
FOLLOW_STEPS = (
    "INSERT OR IGNORE INTO resources (iri) SELECT value FROM json_each(NEW.everyone)",
    "INSERT INTO labels_fts (labels_fts, rowid, folded) "
    f"SELECT 'delete', id, folded FROM labels WHERE resource IN {TOUCHED}",
    "INSERT INTO labels_pairs (labels_pairs, rowid, pairs) "
    f"SELECT 'delete', id, pairs(folded) FROM labels WHERE resource IN {TOUCHED}",
    *(f"DELETE FROM {table} WHERE resource IN {TOUCHED}"  # noqa: S608 - fixed names
      for table in ("labels", "types", "members", "member_of")),
    "INSERT INTO labels (resource, text, lang, alt, folded) "
    "SELECT r.id, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4 "
    "FROM json_each(NEW.labels) j JOIN resources r ON r.iri = j.value ->> 0",
    "INSERT INTO labels_fts (rowid, folded) "
    f"SELECT id, folded FROM labels WHERE resource IN {TOUCHED}",
    "INSERT INTO labels_pairs (rowid, pairs) SELECT l.id, j.value ->> 5 "
    "FROM json_each(NEW.labels) j JOIN resources r ON r.iri = j.value ->> 0 "
    "JOIN labels l ON l.resource = r.id AND l.text = j.value ->> 1 "
    "AND l.lang = j.value ->> 2 AND l.alt = j.value ->> 3",
    "INSERT OR IGNORE INTO types SELECT r.id, j.value ->> 1 "
    "FROM json_each(NEW.types) j JOIN resources r ON r.iri = j.value ->> 0",
    *names_sql(f"WHERE iri IN {OF_TOUCHED}"),
    member_of_sql(TOUCHED),
    "INSERT OR IGNORE INTO members SELECT m.class, r.sortkey, r.id FROM member_of m "
    f"JOIN resources r ON r.id = m.resource WHERE r.iri IN {OF_TOUCHED}",
    "UPDATE resources SET degree = (SELECT j.value ->> 1 FROM json_each(NEW.degrees) j "
    "WHERE j.value ->> 0 = resources.iri) "
    "WHERE iri IN (SELECT value ->> 0 FROM json_each(NEW.degrees))",
    "INSERT OR REPLACE INTO meta SELECT 'stamp', NEW.stamp WHERE NEW.stamp IS NOT NULL",
)
FOLLOW = (
    "DROP VIEW IF EXISTS follow",  # and its trigger: made again as this version writes them
    # An index written by an earlier version kept its full-text tables with triggers.
    "DROP TRIGGER IF EXISTS labels_ai", "DROP TRIGGER IF EXISTS labels_ad",
    "CREATE VIEW follow (touched, everyone, labels, types, degrees, stamp) AS "
    "SELECT NULL, NULL, NULL, NULL, NULL, NULL",
    "CREATE TRIGGER follow_write INSTEAD OF INSERT ON follow BEGIN "
    + "; ".join(FOLLOW_STEPS) + "; END",
)


def _json(rows: list) -> str:
    return json.dumps(rows, ensure_ascii=False)


def fold(text: str) -> str:
    """The form labels and needles are compared in: case-, width- and accent-folded."""
    text = unicodedata.normalize("NFKC", text).translate(LETTERS)
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed != text:
        text = unicodedata.normalize("NFC", COMBINING.sub("", decomposed))
    return text.casefold()


def pairs(folded: str) -> str:
    """The words `labels_pairs` indexes for a folded label: each letter or digit, and each two
    adjacent ones (`gdynia` gives `g d y n i a gd dy yn ni ia`), once each."""
    chars = [c if c.isalnum() else "" for c in folded]
    found = dict.fromkeys(c for c in chars if c)
    found.update(dict.fromkeys(a + b for a, b in zip(chars, chars[1:], strict=False) if a and b))
    return " ".join(found)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class Hit:
    """One resource found by search, with the labels that matched."""

    iri: str
    name: str | None
    name_lang: str | None
    name_zh: str | None
    degree: int
    rank: int
    labels: list[tuple[str, str]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"iri": self.iri, "name": self.name, "nameZh": self.name_zh,
                "partnerships": self.degree, "rank": self.rank,
                "labels": [{"text": t, "lang": lang} for t, lang in self.labels],
                "classes": self.classes}


class LabelIndex:
    """Labels, types and partnership counts of every resource, in one SQLite file."""

    def __init__(self, path: Path | str | None, resource_base: str) -> None:
        self.path = str(path) if path else ":memory:"
        self.resource_base = resource_base
        self.lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.create_function("pairs", 1, pairs, deterministic=True)  # a build, a follow
        self.db.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else
                        "PRAGMA journal_mode=MEMORY")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        for sql in (*INDEXES, *FOLLOW):
            self.db.execute(sql)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # --- stamp ------------------------------------------------------------------------------

    def stamp(self) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key='stamp'").fetchone()
        return row[0] if row else None

    def set_stamp(self, stamp: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (stamp,))

    def ensure(self, store, stamp: str) -> bool:
        """Build the index unless it was built for this stamp; True if it was (re)built."""
        if self.stamp() == f"{SCHEMA_VERSION}|{stamp}":
            return False
        self.build(store)
        self.set_stamp(f"{SCHEMA_VERSION}|{stamp}")
        return True

    # --- building ---------------------------------------------------------------------------

    def build(self, store) -> int:
        """Index every label, type and partnership of the store (its union), streaming."""
        with self.lock:
            db = self.db
            db.execute("BEGIN")
            for sql in UNINDEX:
                db.execute(sql)
            for table in ("labels", "types", "members", "member_of", "hierarchy", "resources",
                          "meta"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            db.execute("INSERT INTO labels_fts (labels_fts) VALUES ('delete-all')")
            db.execute("INSERT INTO labels_pairs (labels_pairs) VALUES ('delete-all')")
            ids: dict[str, int] = {}

            def rid(iri: str) -> int:
                found = ids.get(iri)
                if found is None:
                    found = ids[iri] = len(ids) + 1
                return found

            seen_labels: set[tuple] = set()  # the union repeats a label stated in two graphs
            for predicate in LABEL_PREDICATES:
                alt = int(predicate == SKOS_ALT)
                batch: list[tuple] = []
                for quad in store.quads_for_pattern(None, predicate, None, None):
                    s, o = quad.subject, quad.object
                    if isinstance(s, ox.NamedNode) and isinstance(o, ox.Literal):
                        row = (rid(s.value), o.value, o.language or "", alt)
                        if row not in seen_labels:
                            seen_labels.add(row)
                            batch.append((*row, fold(o.value)))
                    if len(batch) >= BATCH:
                        db.executemany("INSERT INTO labels (resource, text, lang, alt, folded) "
                                       "VALUES (?,?,?,?,?)", batch)
                        batch = []
                db.executemany("INSERT INTO labels (resource, text, lang, alt, folded) "
                               "VALUES (?,?,?,?,?)", batch)
            del seen_labels
            db.execute("INSERT INTO labels_fts (labels_fts) VALUES ('rebuild')")
            db.execute("INSERT INTO labels_pairs (rowid, pairs) SELECT id, pairs(folded) "
                       "FROM labels")
            for sql in INDEXES:
                db.execute(sql)
            batch = []
            for quad in store.quads_for_pattern(None, RDF_TYPE, None, None):
                if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object,
                                                                         ox.NamedNode):
                    batch.append((rid(quad.subject.value), quad.object.value))
                if len(batch) >= BATCH:
                    db.executemany("INSERT OR IGNORE INTO types VALUES (?,?)", batch)
                    batch = []
            db.executemany("INSERT OR IGNORE INTO types VALUES (?,?)", batch)
            degree: dict[int, int] = defaultdict(int)
            seen: set[tuple[str, str]] = set()
            for quad in store.quads_for_pattern(None, PARTY, None, None):
                if isinstance(quad.object, ox.NamedNode):
                    key = (quad.subject.value, quad.object.value)
                    if key not in seen:  # the union repeats a triple stated in two graphs
                        seen.add(key)
                        degree[rid(quad.object.value)] += 1
            del seen
            db.executemany("INSERT INTO resources (id, iri) VALUES (?,?)",
                           ((i, iri) for iri, i in ids.items()))
            db.executemany("UPDATE resources SET degree=? WHERE id=?",
                           ((n, i) for i, n in degree.items()))
            for sql in names_sql():
                db.execute(sql)
            self._hierarchy(store)
            db.execute(member_of_sql())
            db.execute("INSERT OR IGNORE INTO members SELECT m.class, r.sortkey, r.id "
                       "FROM member_of m JOIN resources r ON r.id = m.resource "
                       "ORDER BY m.class, r.sortkey, r.id")
            db.execute("COMMIT")
            count = len(ids)
        log.info("label index: %d resources", count)
        return count

    def _hierarchy(self, store) -> None:
        parents: dict[str, set[str]] = defaultdict(set)
        for quad in store.quads_for_pattern(None, RDFS_SUBCLASS_OF, None, None):
            if isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.NamedNode):
                parents[quad.subject.value].add(quad.object.value)
        rows: list[tuple[str, str]] = []
        for cls in parents:
            seen, todo = set(), list(parents[cls])
            while todo:
                up = todo.pop()
                if up not in seen and up != cls:
                    seen.add(up)
                    todo.extend(parents.get(up, ()))
            rows.extend((cls, up) for up in seen)
        self.db.execute("DELETE FROM hierarchy")
        self.db.executemany("INSERT OR IGNORE INTO hierarchy VALUES (?,?)", rows)

    # --- keeping current --------------------------------------------------------------------

    def apply(self, store, quads: Iterable[ox.Quad], stamp: str | None = None) -> int:
        """Index again the resources a committed change touched; returns how many. With a
        `stamp`, the index is stamped in the same transaction.

        What the store holds of them is read first, then the index takes it in ONE statement
        (a row inserted into the view `follow`, whose trigger does the work: FOLLOW_STEPS),
        whatever the number of resources and labels. The sqlite3 module hands the interpreter
        over around every statement it runs, and in a server whose event loop wants it back each
        hand-over costs the write's thread up to a whole switch interval, with the write lock
        held: with a statement per resource and per row (about 47 hand-overs a write), a
        write's follow took 5 ms alone and 140 ms beside one busy thread. Only a label dropped
        still calls `pairs` back in Python.
        """
        touched: set[str] = set()
        parties: set[str] = set()
        for quad in quads:
            if quad.predicate in WATCHED and isinstance(quad.subject, ox.NamedNode):
                touched.add(quad.subject.value)
            if quad.predicate == PARTY and isinstance(quad.object, ox.NamedNode):
                parties.add(quad.object.value)
        if not touched and not parties and stamp is None:
            return 0
        labels, types = self._rows(store, sorted(touched))
        degrees = [[iri, len({q.subject for q in store.quads_for_pattern(
                        None, PARTY, ox.NamedNode(iri), None)})] for iri in sorted(parties)]
        with self.lock:
            self.db.execute("INSERT INTO follow VALUES (?, ?, ?, ?, ?, ?)",
                            (_json(sorted(touched)), _json(sorted(touched | parties)),
                             _json(labels), _json(types), _json(degrees), stamp))
        return len(touched | parties)

    @staticmethod
    def _rows(store, iris: list[str]) -> tuple[list[list], list[list]]:
        """The label rows (iri, text, lang, alt, folded, pairs) and type rows (iri, class) the
        store holds of these resources, in its union."""
        labels: dict[tuple, list] = {}  # the union repeats a label stated in two graphs
        types: list[list] = []
        for iri in iris:
            node = ox.NamedNode(iri)
            for predicate in LABEL_PREDICATES:
                alt = int(predicate == SKOS_ALT)
                for q in store.quads_for_pattern(node, predicate, None, None):
                    if isinstance(q.object, ox.Literal):
                        key = (iri, q.object.value, q.object.language or "", alt)
                        if key not in labels:
                            folded = fold(q.object.value)
                            labels[key] = [*key, folded, pairs(folded)]
            types.extend([iri, q.object.value]
                         for q in store.quads_for_pattern(node, RDF_TYPE, None, None)
                         if isinstance(q.object, ox.NamedNode))
        return list(labels.values()), types

    # --- reading ----------------------------------------------------------------------------

    def search(self, text: str, limit: int = 50, lang: str | None = None) -> list[Hit]:
        """Resources with a label containing `text` (folded), best first.

        Rank: 0 the whole label, 1 a prefix of it, 2 a prefix of a word in it, 3 elsewhere;
        then more partnerships first, then the name.
        """
        needle = fold(text.strip())
        if not needle:
            return []
        if len(needle) >= 3:
            phrase = '"' + needle.replace('"', '""') + '"'
            candidates = ("SELECT l.id FROM labels_fts f JOIN labels l ON l.id = f.rowid "
                          "WHERE labels_fts MATCH ?", (phrase,))
        elif needle.isalnum():
            candidates = ("SELECT rowid FROM labels_pairs WHERE labels_pairs MATCH ?",
                          ('"' + needle + '"',))
        else:
            candidates = ("SELECT id FROM labels WHERE folded LIKE ? ESCAPE '\\'",
                          ("%" + _like_escape(needle) + "%",))
        # Ranked and cut in SQLite: a common needle ("orka" at a million triples) matches
        # thousands of labels, and ranking them all in Python cost 50 ms a search.
        rank = """CASE WHEN l.folded = ?1 THEN 0
                       WHEN substr(l.folded, 1, length(?1)) = ?1 THEN 1
                       WHEN instr(l.folded, ' ' || ?1) OR instr(l.folded, '-' || ?1) THEN 2
                       ELSE 3 END"""
        matched = f"""
          SELECT l.id, l.resource, l.text, l.lang, {rank} AS rank FROM labels l
          WHERE l.id IN ({candidates[0].replace('?', '?2')})
            AND (?4 IS NULL OR l.lang = ?4 OR l.lang LIKE ?4 || '-%')"""  # noqa: S608
        sql = f"""
          WITH matched AS ({matched}),
               best AS (SELECT resource, MIN(rank) AS rank FROM matched GROUP BY resource)
          SELECT r.id, r.iri, r.name, r.name_lang, r.name_zh, r.degree, b.rank
          FROM best b JOIN resources r ON r.id = b.resource
          WHERE substr(r.iri, 1, length(?3)) = ?3
          ORDER BY b.rank, r.degree DESC, r.sortkey, r.iri LIMIT ?5
        """  # noqa: S608 - fixed fragments
        args = (needle, candidates[1][0], self.resource_base, lang.lower() if lang else None,
                limit)
        with self.lock:
            rows = self.db.execute(sql, args).fetchall()
            best = [Hit(iri, name, name_lang, name_zh, degree, rank)
                    for _id, iri, name, name_lang, name_zh, degree, rank in rows]
            by_id = {row[0]: hit for row, hit in zip(rows, best, strict=True)}
            if by_id:
                # The labels that matched, for the hits only: every match is a substring of the
                # folded label, so the hits' own labels are filtered here rather than the
                # candidates looked up again.
                wanted = lang.lower() if lang else None
                marks = ",".join("?" * len(by_id))
                for resource, label, label_lang, folded in self.db.execute(
                        f"SELECT resource, text, lang, folded FROM labels "  # noqa: S608
                        f"WHERE resource IN ({marks}) ORDER BY id", tuple(by_id)):
                    tag = label_lang.lower()
                    if needle not in folded or not (
                            wanted is None or tag == wanted or tag.startswith(wanted + "-")):
                        continue
                    hit = by_id[resource]
                    if (label, label_lang) not in hit.labels:
                        hit.labels.append((label, label_lang))
            for hit in best:
                hit.classes = [c for (c,) in self.db.execute(
                    "SELECT t.class FROM types t JOIN resources r ON r.id = t.resource "
                    "WHERE r.iri=? ORDER BY t.class", (hit.iri,))]
        return best

    def class_labels(self, classes: Iterable[str]) -> dict[str, str]:
        """English (else any) labels of classes, as indexed."""
        wanted = list(dict.fromkeys(classes))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self.lock:
            return {iri: name for iri, name in self.db.execute(
                f"SELECT iri, name FROM resources WHERE iri IN ({marks}) AND name IS NOT NULL",  # noqa: S608
                wanted)}

    def names(self, iris: Iterable[str]) -> dict[str, tuple[str | None, str | None, str | None]]:
        """(name, its language, Chinese name) of each resource the index knows, by IRI."""
        wanted = list(dict.fromkeys(iris))
        found: dict[str, tuple] = {}
        with self.lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for iri, name, lang, zh in self.db.execute(
                        f"SELECT iri, name, name_lang, name_zh FROM resources "  # noqa: S608
                        f"WHERE iri IN ({marks})", chunk):
                    found[iri] = (name, lang, zh)
        return found

    def describe(self, iri: str) -> tuple[list[tuple[str, str, bool]], list[str]] | None:
        """The labels (text, language, alternative) and types of a resource; None if unknown."""
        with self.lock:
            row = self.db.execute("SELECT id FROM resources WHERE iri=?", (iri,)).fetchone()
            if row is None:
                return None
            labels = [(t, lang, bool(alt)) for t, lang, alt in self.db.execute(
                "SELECT text, lang, alt FROM labels WHERE resource=? ORDER BY alt, lang, text",
                (row[0],))]
            types = [c for (c,) in self.db.execute(
                "SELECT class FROM types WHERE resource=? ORDER BY class", (row[0],))]
        return labels, types

    def members(self, cls: str, limit: int, offset: int = 0) -> list[dict]:
        """One page of the instances of a class (or of its subclasses), by name."""
        with self.lock:
            rows = self.db.execute(
                "SELECT r.id, r.iri, r.name, r.name_lang, r.name_zh FROM members m "
                "JOIN resources r ON r.id = m.resource WHERE m.class=? "
                "ORDER BY m.sortkey, m.resource LIMIT ? OFFSET ?", (cls, limit, offset)
            ).fetchall()
            found = []
            for rid, iri, name, name_lang, name_zh in rows:
                types = [c for (c,) in self.db.execute(
                    "SELECT class FROM types WHERE resource=? ORDER BY class", (rid,))]
                found.append({"iri": iri, "name": name, "name_lang": name_lang,
                              "name_zh": name_zh, "types": types})
        return found

    def member_count(self, cls: str) -> int:
        with self.lock:
            return self.db.execute("SELECT count(*) FROM members WHERE class=?",
                                   (cls,)).fetchone()[0]

    def typed_count(self, cls: str) -> int:
        """Resources typed with `cls` itself (not through a subclass)."""
        with self.lock:
            return self.db.execute("SELECT count(*) FROM types WHERE class=?",
                                   (cls,)).fetchone()[0]

    def members_typed(self, cls: str, typed: str) -> int:
        """Instances of `cls` (or of its subclasses) also typed with `typed` itself; an index
        probe per instance of `typed`, so name the smaller class there."""
        with self.lock:
            return self.db.execute(
                "SELECT count(*) FROM types t JOIN member_of m ON m.resource = t.resource "
                "AND m.class = ? WHERE t.class = ?", (cls, typed)).fetchone()[0]

    def subclasses(self, cls: str) -> list[str]:
        """`cls` and every class below it (rdfs:subClassOf*), as indexed."""
        with self.lock:
            return [cls, *(c for (c,) in self.db.execute(
                "SELECT class FROM hierarchy WHERE ancestor=? ORDER BY class", (cls,)))]


def index_path(store_path: str | None, configured: str | None = None) -> str | None:
    """Where the index lives: the configured path, else beside an on-disk store, else memory."""
    if configured:
        return None if configured == ":memory:" else configured
    if not store_path or store_path == ":memory:":
        return None
    store = Path(store_path)
    return str(store.with_name(store.name + ".labels.sqlite"))


def open_index(store, settings, writer=None) -> LabelIndex:
    """The label index of a store, built if it does not match it, and kept current by `writer`.

    The stamp names the store's last applied change, its size and its graphs: a store filled
    again, synced to other datasets or written by this server's write path since the index was
    built does not match, and the index is built again.
    """
    index = LabelIndex(index_path(None if settings.store_backend == "remote"
                                  else settings.store_path, settings.label_index_path),
                       settings.resource_base)
    marker = writer.marker() if writer is not None else None
    folder = getattr(store, "path", None)
    filled = folder.with_name(folder.name + ".filled") if folder is not None else None
    fill = filled.read_text(encoding="utf-8").strip() if filled and filled.exists() else ""
    state = {"marker": marker, "count": store.count(), "graphs": " ".join(store.graphs())}

    def stamp() -> str:
        return f"{fill}|{state['marker']}|{state['count']}|{state['graphs']}"

    if index.ensure(store, stamp()):
        log.info("label index built for %s", stamp()[:80])
    if writer is not None:
        def follow(change, derived) -> None:
            # The store's size follows from the change (and the marker's first quad), so no
            # count of a large store after each write.
            state["count"] += (len(change.added) + len(derived.added) - len(change.removed)
                               - len(derived.removed) + (state["marker"] is None))
            state["marker"] = writer.marker()
            if any(q.graph_name.value not in state["graphs"].split() for q in change.added) \
                    or change.removed:
                state["graphs"] = " ".join(store.graphs())
            index.apply(store, change.quads() | derived.quads(),
                        stamp=f"{SCHEMA_VERSION}|{stamp()}")
        writer.on_commit.append(follow)
    return index
