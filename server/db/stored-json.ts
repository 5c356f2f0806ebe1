// JSON kept in a text column (verdicts, options, pauses, reports), read without trusting it: an
// empty or unreadable value reads as null, never as a thrown error.
export function parseStoredJson<T>(json: string | null | undefined): T | null {
  if (json == null) return null;
  try {
    return JSON.parse(json) as T;
  } catch {
    return null;
  }
}
