// badblocks block size (-b) and blocks per request (-c). badblocks refuses more than 2^32 - 1
// blocks, so a 20 TB drive needs -b 8192 or more; about 1 MiB per request keeps it fast.
import { ValidationError } from "../errors.js";

export const MAX_BADBLOCKS_BLOCKS = 2 ** 32 - 1;
const TARGET_REQUEST_BYTES = 1024 * 1024;
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export interface Geometry {
  blockSize: number;
  blocksAtOnce: number;
  /** Blocks the scan covers: 0 .. blocks - 1. */
  blocks: number;
}

export function chooseGeometry(
  sizeBytes: number,
  options: { physicalSectorSize?: number | null; logicalSectorSize?: number | null; blockSize?: number; blocksAtOnce?: number } = {},
): Geometry {
  if (!Number.isFinite(sizeBytes) || sizeBytes <= 0)
    throw new ValidationError("sizeBytes", "the drive's size is unknown: refresh its host's inventory");
  const sector = Math.max(options.logicalSectorSize ?? 512, 512);
  let blockSize = options.blockSize ?? Math.max(4096, options.physicalSectorSize ?? 4096);
  if (options.blockSize !== undefined) {
    if (blockSize % sector !== 0)
      throw new ValidationError("options.blockSize", `${blockSize} is not a multiple of the drive's ${sector}-byte sectors`);
    if (Math.floor(sizeBytes / blockSize) > MAX_BADBLOCKS_BLOCKS) {
      throw new ValidationError(
        "options.blockSize",
        `${blockSize} gives more than 2^32 blocks on ${sizeBytes} bytes (badblocks refuses): use a larger block size`,
      );
    }
  } else {
    while (Math.floor(sizeBytes / blockSize) > MAX_BADBLOCKS_BLOCKS) blockSize *= 2;
  }
  const blocks = Math.floor(sizeBytes / blockSize);
  if (blocks < 1) throw new ValidationError("options.blockSize", `${blockSize} is larger than the drive (${sizeBytes} bytes)`);
  const blocksAtOnce = options.blocksAtOnce ?? Math.max(1, Math.floor(TARGET_REQUEST_BYTES / blockSize));
  // badblocks allocates a few buffers of -b x -c bytes: past this it fails to start on most hosts.
  if (blockSize * blocksAtOnce > MAX_REQUEST_BYTES) {
    throw new ValidationError(
      "options.blocksAtOnce",
      `${blocksAtOnce} blocks of ${blockSize} bytes is ${blockSize * blocksAtOnce} bytes per request; at most ${MAX_REQUEST_BYTES}`,
    );
  }
  return { blockSize, blocksAtOnce, blocks };
}
