"""Cursor's local chat store: ``state.vscdb`` files turned into estimated requests.

Cursor writes no transcripts. Its conversations ("composers") live in SQLite files it
keeps open, in a reverse-engineered and versioned shape, so everything is parsed
defensively and every ``_v`` seen is counted for ``doctor``.

``User/globalStorage/state.vscdb``, table ``cursorDiskKV(key, value)``:

- ``composerData:<composerId>``: ``_v``, ``createdAt``/``lastUpdatedAt`` (epoch ms),
  ``modelConfig.modelName``, ``fullConversationHeadersOnly[]`` (``bubbleId``, ``type``:
  1 user, 2 assistant), or in older builds the bubbles inline in ``conversation[]``;
- ``bubbleId:<composerId>:<bubbleId>``: ``type``, ``createdAt`` (ISO), ``requestId``,
  ``tokenCount {inputTokens, outputTokens}``, and on user bubbles ``modelInfo.modelName``.

``User/workspaceStorage/<hash>/``: ``workspace.json`` names the folder, and the
``composer.composerData`` item of its ``state.vscdb`` lists the workspace's composers:
that folder is their project.

- ``layout``: where the store's files are, and the store as ingest reads it (loaded
  with every command: the modules below load only when a store is read);
- ``database``: opening a store for a consistent read that never blocks Cursor;
- ``global_db``: reading the conversations that changed since the last pass;
- ``composers``: a conversation's bubbles turned into estimated requests;
- ``workspaces``: which project folder each conversation belongs to.
"""

from tokenbuddy.sources.cursor_local.layout import (
    GLOBAL_STORAGE,
    STATE_DB,
    WATCHED_NAMES,
    LocalStore,
    log_dirs,
    workspace_dbs,
)

__all__ = ["GLOBAL_STORAGE", "STATE_DB", "WATCHED_NAMES", "LocalStore", "log_dirs", "workspace_dbs"]
