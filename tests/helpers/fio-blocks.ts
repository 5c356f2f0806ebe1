// Reading and changing a loop device's backing file under fio: its verify headers, and blocks
// swapped as a drive that misdirects writes would leave them.
import { closeSync, openSync, readSync, writeSync } from "node:fs";

/** The verify header fio puts at the start of each 4 KiB: magic 0xacca, little-endian. */
export function headerAt(file: string, offset: number): { magic: number; offset: bigint } {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(32);
    readSync(fd, buffer, 0, 32, offset);
    // struct verify_header: u16 magic, u16 verify_type, u32 len, u64 rand_seed, u64 offset, ...
    return { magic: buffer.readUInt16LE(0), offset: buffer.readBigUInt64LE(16) };
  } finally {
    closeSync(fd);
  }
}

/** Swaps two 4 KiB blocks of a loop device's backing file (a drive that wrote them to each other's place). */
export function swapBlocks(file: string, a: number, b: number): void {
  const fd = openSync(file, "r+");
  try {
    const x = Buffer.alloc(4096);
    const y = Buffer.alloc(4096);
    readSync(fd, x, 0, 4096, a);
    readSync(fd, y, 0, 4096, b);
    writeSync(fd, y, 0, 4096, a);
    writeSync(fd, x, 0, 4096, b);
  } finally {
    closeSync(fd);
  }
}
