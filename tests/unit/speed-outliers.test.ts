// The slow-drive rule: a scan under 70% of the median of at least 3 peers of its model is warned about.
import { describe, expect, it } from "vitest";
import { median, scanMbps, slowDriveWarning } from "../../server/runner/speed-outliers.js";

describe("speed outliers", () => {
  it("takes the median of the peers, odd or even", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("warns under 70% of the median of at least 3 peers, and says by how much", () => {
    expect(slowDriveWarning(130, [200, 190, 210], "ST4000NM0043")).toBe(
      "slow drive: its scan averaged 130.0 MB/s, 65% of the median 200.0 MB/s of 3 other ST4000NM0043 drives (under 70%): check the drive, its cable and port",
    );
    expect(slowDriveWarning(141, [200, 190, 210], "ST4000NM0043")).toBeNull(); // 70.5%
    expect(slowDriveWarning(50, [200, 190], "ST4000NM0043")).toBeNull(); // too few peers
    expect(slowDriveWarning(50, [200, 190, 0, Number.NaN], "X")).toBeNull(); // unusable peers do not count
    expect(slowDriveWarning(50, [200, 190], "X", { percent: 70, minPeers: 2 })).toMatch(/^slow drive/);
  });

  it("averages a scan over everything written and read: 2 passes of each pattern over the drive", () => {
    expect(scanMbps(4e12, 4, 1, 32e4)).toBe(100); // 4 TB, 4 patterns, 320,000 s
    expect(scanMbps(4e12, 1, 1, 8e4)).toBe(100); // a resumed scan of one pattern
    expect(scanMbps(0, 4, 1, 10)).toBeNull();
    expect(scanMbps(4e12, 4, 1, 0)).toBeNull();
  });
});
