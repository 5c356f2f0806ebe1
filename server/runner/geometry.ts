// badblocks block size (-b) and blocks per request (-c). badblocks refuses more than 2^32 - 1
// blocks, so a 20 TB drive needs -b 8192 or more; about 1 MiB per request keeps it fast.
import { ValidationError } from "../errors.js";

export const MAX_BADBLOCKS_BLOCKS = 2 ** 32 - 1;
const TARGET_REQUEST_BYTES = 1024 * 1024;

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
  const blocksAtOnce = options.blocksAtOnce ?? Math.max(1, Math.floor(TARGET_REQUEST_BYTES / blockSize));
  return { blockSize, blocksAtOnce, blocks: Math.floor(sizeBytes / blockSize) };
}
