"""Every agent whose local logs tokenbuddy reads: one record each, in :data:`LOG_SOURCES`.

Adding an agent is one reader module plus one line in :data:`LOG_SOURCES`. The
module holds a ``log_dirs`` function (where the agent's logs are, from the
environment and the home directory) and a reader of one of two kinds:

- :class:`Transcripts`: append-only JSONL files, read from where the last read
  stopped as they grow (Claude Code, Codex). The reader opens a
  :class:`TranscriptParser` for one file's new bytes.
- :class:`ChatStore`: a database the agent rewrites in place, read for what
  changed when its file changes (Cursor's SQLite store).

The line names the source, the ``log_dirs`` function, the reader, the
:class:`WatchHints` the dashboard follows it live with, and the directories that
mark a directory named on the command line as the agent's home. Discovery, ingest,
the live watcher, ``doctor`` and ``replay`` go through these records and never ask
for an agent by name (tests/sources/test_registry.py adds a made-up agent this way
and follows it end to end).

The name is the ``source`` of the agent's records, so it is also listed with the
other record sources in :data:`tokenbuddy.core.records.SOURCES`, which core keeps
as plain names (it cannot import this package) and the CLI offers as ``--source``
choices; test_registry fails until the two agree. Outside ``sources``, pricing (the
vendor whose list prices a source's models take) and the ledger's dedup rule (keep
the largest copy of a Claude Code request) still key on existing agents' names; a
new agent gets their defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from tokenbuddy.core.records import (
    CLAUDE_CODE,
    CLINE,
    CODEX,
    COPILOT,
    CURSOR_LOCAL,
    GEMINI_CLI,
    OPENCODE,
    QWEN_CODE,
    ParseStats,
    PromptMark,
    RateLimitSnapshot,
    UsageRecord,
)
from tokenbuddy.sources import (
    claude_code,
    cline,
    codex,
    copilot,
    cursor_local,
    gemini_cli,
    opencode,
    qwen_code,
)
from tokenbuddy.sources.documents import DocumentRead
from tokenbuddy.sources.locations import LogDir

if TYPE_CHECKING:
    from tokenbuddy.core.cursor_reads import DbRead, DbStat

Discover = Callable[[Mapping[str, str], Path, str, Path], list[LogDir]]
"""``log_dirs(environ, home, platform, windows_users)``: the directories a source reads."""


class TranscriptParser(Protocol):
    """Turns one transcript's new bytes, buffer by buffer, into records."""

    records: list[UsageRecord]
    prompts: list[PromptMark]
    """Human prompts, for the unattended-loop warning."""
    rate_limits: list[RateLimitSnapshot]
    state: dict[str, Any]
    """What the next read of the file carries on from (stored with its cursor)."""

    def feed_chunk(self, chunk: bytes) -> None:
        """Read one buffer of complete lines."""

    def finish(self, overlong_edges: Iterable[tuple[bytes, bytes]]) -> int:
        """Rescue what it can from the (head, tail) of lines too long to read whole;
        returns how many it rescued (the others are counted as skipped)."""


OpenTranscript = Callable[[str, dict[str, Any], ParseStats], TranscriptParser]
"""(path, the state the last read left, stats to count into) -> a parser."""


class Transcripts(NamedTuple):
    """A reader of append-only JSONL transcripts."""

    open: OpenTranscript
    name_prefix: str = ""
    """Only files whose name starts with this are its transcripts; empty: all of them."""
    head_marker: bytes = b""
    """Bytes its transcripts' first line holds: what tells one apart whatever its name.
    Files no source claims by prefix or marker go to the first source without either."""
    suffix: str = ".jsonl"

    def is_transcript(self, name: str) -> bool:
        """Whether a file of this name under one of the source's roots is a transcript."""
        return name.endswith(self.suffix) and name.startswith(self.name_prefix)


ReadDocument = Callable[[str, dict[str, Any], ParseStats], DocumentRead]
"""(path, the state the last read left, stats to count into) -> what it found. Raises
OSError when the document cannot be read; anything unreadable inside it is counted in
the stats as skipped, never raised."""
FindDocuments = Callable[[Path, list[str]], list[str]]
"""(root, errors) -> the documents under a root, sorted; unreadable directories are
described in ``errors``."""


class Documents(NamedTuple):
    """A reader of documents an agent rewrites whole or updates in place."""

    read: ReadDocument
    find: FindDocuments
    companions: tuple[str, ...] = ()
    """Suffixes of files beside a document whose changes are changes of the document
    (``-wal`` of a SQLite database): its fingerprint covers them too."""
    claims: Callable[[str], bool] | None = None
    """Whether a file written under one of the source's roots is one of its documents
    (the live watcher hands over every ``.json`` there); None: every file it is handed."""

    def is_document(self, path: str) -> bool:
        """Whether ``path`` (a companion mapped to its document) is one of its documents."""
        return self.claims is None or self.claims(path)


class ChatStore(Protocol):
    """A reader of a database an agent rewrites in place, under each of its roots."""

    def database(self, root: Path) -> Path:
        """The database whose changes mean new usage."""

    def stat(self, path: Path) -> DbStat | None:
        """What identifies this version of a database; None when it is gone."""

    def workspaces(self, root: Path) -> list[Path]:
        """The databases that map conversations to projects."""

    def workspace(self, path: Path) -> tuple[str, list[str]]:
        """(project folder, conversation ids) of one of those."""

    def read(
        self,
        path: Path,
        stat: DbStat,
        watermarks: Mapping[str, int],
        projects: Mapping[str, str],
    ) -> DbRead:
        """Re-read the conversations whose last update differs from ``watermarks``."""


class WatchHints(NamedTuple):
    """Which writes under a source's roots mean new usage, for following it live."""

    subdir: str = ""
    """The directory under each root to watch; empty: the root itself."""
    recursive: bool = True
    suffixes: tuple[str, ...] = (".jsonl",)
    """Files ending so are handed over when written."""
    names: frozenset[str] = frozenset()
    """Files named so are handed over when written."""

    def root_of(self, path: str) -> Path:
        """The root a file written right in the watched directory is under."""
        return Path(path).parents[len(Path(self.subdir).parts)]


class LogSource(NamedTuple):
    """One agent whose local logs are read."""

    name: str
    log_dirs: Discover
    reader: Transcripts | Documents | ChatStore
    watch: WatchHints
    home_dirs: tuple[str, ...] = ()
    """The directories of the agent's home that are its roots: a directory named on the
    command line that holds one is read as the agent's home."""

    @property
    def transcripts(self) -> Transcripts | None:
        """The transcript reader, or None for a database source."""
        return self.reader if isinstance(self.reader, Transcripts) else None

    @property
    def documents(self) -> Documents | None:
        """The document reader, or None for another kind of source."""
        return self.reader if isinstance(self.reader, Documents) else None

    @property
    def chat_store(self) -> ChatStore | None:
        """The chat-store reader, or None for another kind of source."""
        return None if isinstance(self.reader, (Transcripts, Documents)) else self.reader

    @property
    def reads_files(self) -> bool:
        """Whether the source's logs are files the ingest reads one by one (transcripts
        or documents), as opposed to a chat store."""
        return isinstance(self.reader, (Transcripts, Documents))


LOG_SOURCES: tuple[LogSource, ...] = (
    LogSource(
        CLAUDE_CODE,
        claude_code.log_dirs,
        Transcripts(claude_code.TranscriptReader),
        WatchHints(),
        claude_code.HOME_DIRS,
    ),
    LogSource(
        CODEX,
        codex.log_dirs,
        Transcripts(codex.open_rollout, codex.NAME_PREFIX, codex.SESSION_META_HEAD),
        WatchHints(),
        codex.HOME_DIRS,
    ),
    LogSource(
        CURSOR_LOCAL,
        cursor_local.log_dirs,
        cursor_local.LocalStore(),
        WatchHints(cursor_local.GLOBAL_STORAGE, False, (), cursor_local.WATCHED_NAMES),
    ),
    LogSource(
        GEMINI_CLI,
        gemini_cli.log_dirs,
        Documents(gemini_cli.read, gemini_cli.find, claims=gemini_cli.claims),
        WatchHints(suffixes=gemini_cli.SUFFIXES),
        gemini_cli.HOME_DIRS,
    ),
    LogSource(
        COPILOT,
        copilot.log_dirs,
        Documents(copilot.read, copilot.find, claims=copilot.claims),
        WatchHints(suffixes=copilot.SUFFIXES),
        copilot.HOME_DIRS,
    ),
    LogSource(
        OPENCODE,
        opencode.log_dirs,
        Documents(opencode.read, opencode.find, opencode.COMPANIONS, opencode.claims),
        WatchHints(suffixes=opencode.WATCHED_SUFFIXES),
    ),
    LogSource(QWEN_CODE, qwen_code.log_dirs, Transcripts(qwen_code.open_session), WatchHints()),
    LogSource(
        CLINE,
        cline.log_dirs,
        Documents(cline.read, cline.find, claims=cline.claims),
        WatchHints(suffixes=(), names=cline.WATCHED_NAMES),
        cline.HOME_DIRS,
    ),
)
"""In the order discovery lists them (``doctor`` shows them so)."""


def source(name: str) -> LogSource:
    """The registered source named ``name``; KeyError when there is none."""
    for entry in LOG_SOURCES:
        if entry.name == name:
            return entry
    raise KeyError(f"no log source is named {name!r}")
