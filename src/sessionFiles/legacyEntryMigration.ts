/** The session file version pi 0.73 and 1.x write. */
export const SESSION_FILE_VERSION = 3;

/**
 * Brings an old session file's entries up to version 3 as they are read, as pi does when it
 * loads one (pi also rewrites the file; pidriver only reads it):
 * - version 1 (no `version` in the header) had no tree: every entry gets an `id` and the
 *   previous entry as its `parentId`, and a compaction's `firstKeptEntryIndex` (an index into the
 *   file's lines, the header being 0) becomes the `firstKeptEntryId` of that entry. pi makes up
 *   random ids; these are `legacy-<n>` (n counts the file's parsed lines), the same on every read;
 * - version 2 named the `custom` message role `hookMessage`.
 *
 * @param version The header's `version` (absent means 1).
 * @return A function that migrates each raw entry in place, in file order; `undefined` for a current file.
 */
export function legacyEntryMigration(version: number | undefined): ((raw: Record<string, unknown>) => void) | undefined {
  const from = version ?? 1;
  if (from >= SESSION_FILE_VERSION) return undefined;
  const idsByIndex: (string | undefined)[] = [undefined]; // index 0: the header
  let previousId: string | null = null;
  return (raw) => {
    if (raw['type'] === 'session') {
      idsByIndex.push(undefined);
      return;
    }
    if (from < 2) {
      const id = `legacy-${idsByIndex.length}`;
      raw['id'] = id;
      raw['parentId'] = previousId;
      previousId = id;
      idsByIndex.push(id);
      if (raw['type'] === 'compaction' && typeof raw['firstKeptEntryIndex'] === 'number') {
        const kept = idsByIndex[raw['firstKeptEntryIndex']];
        if (kept !== undefined) raw['firstKeptEntryId'] = kept;
        delete raw['firstKeptEntryIndex'];
      }
    }
    const message = raw['message'];
    if (raw['type'] === 'message' && typeof message === 'object' && message !== null && (message as Record<string, unknown>)['role'] === 'hookMessage') {
      (message as Record<string, unknown>)['role'] = 'custom';
    }
  };
}
