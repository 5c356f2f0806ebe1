// JSON printed by a host (lsblk -J, smartctl -j, wipefs -J), parsed with a nesting limit: the
// parsers walk it recursively, and a hostile host must not be able to overflow Kiln's stack with
// [[[[...]]]]. Pure, no I/O.

/** A host's answer Kiln cannot use: invalid, too deep, or not the expected shape. */
export class HostOutputError extends Error {
  override name = "HostOutputError";
}

/** Deeper than any real lsblk or smartctl output (lsblk: disk > part > crypt > lvm is 4). */
export const MAX_JSON_DEPTH = 64;

/** JSON.parse, refusing text nested deeper than `maxDepth` before parsing it. */
export function parseHostJson(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const depth = nestingDepth(text, maxDepth);
  if (depth > maxDepth) throw new HostOutputError(`${what}: JSON nested deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HostOutputError(`${what}: not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
}

/** How deep [ and { nest outside strings; stops counting once past `limit`. Linear in the text. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return max;
}
