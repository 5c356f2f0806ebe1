// Whether a write to the whole device reaches the whole drive: the check an erasure claim rests
// on. An ATA drive answers `hdparm -N` (a host protected area or a DCO-reduced size hides sectors
// past the current max); an NVMe drive says its whole capacity, what no namespace holds and each
// namespace's size (smartctl); a SAS drive's READ CAPACITY is what smartctl reports as its
// capacity. Taken in precheck, before anything is written, and kept on the job
// (BurnInJob.capacityCheck). Pure.
import type { MaxSectors } from "../parsers/hdparm.js";
import type { SmartReport } from "../parsers/smartctl.js";

export interface CapacityCheck {
  /** How the drive's whole capacity was learned. */
  method: "hdparm -N" | "nvme namespaces" | "read capacity" | "none";
  /** Bytes of the device Kiln writes to. */
  deviceBytes: number;
  /** Bytes the drive has in all, by `method`; null when it did not say. */
  driveBytes: number | null;
  /** True only when the drive said, and nothing lies outside the device. */
  wholeDriveReachable: boolean;
  /** The finding in words, for the log and the report. */
  detail: string;
}

const SECTOR = 512;

/**
 * The check for a device of `deviceBytes`, from its SMART report and (ATA) `hdparm -N`'s answer
 * (null: not asked or no answer; a string: why).
 */
export function checkCapacity(deviceBytes: number, smart: SmartReport | null, hdparm: MaxSectors | string | null): CapacityCheck {
  /** Capacity out of the device's reach, or not known to be within it. */
  const short = (method: CapacityCheck["method"], driveBytes: number | null, detail: string): CapacityCheck => ({
    method,
    deviceBytes,
    driveBytes,
    wholeDriveReachable: false,
    detail,
  });
  const none = (detail: string) => short("none", null, detail);
  switch (smart?.protocol) {
    case "ata": {
      if (hdparm === null || typeof hdparm === "string") {
        return none(
          `the drive did not answer hdparm -N${typeof hdparm === "string" ? ` (${hdparm})` : ""}: a host protected area cannot be ruled out`,
        );
      }
      const driveBytes = hdparm.native * SECTOR;
      const hidden = (hdparm.native - hdparm.current) * SECTOR;
      if (hidden > 0) {
        return short(
          "hdparm -N",
          driveBytes,
          `a host protected area hides ${hidden} bytes (max sectors ${hdparm.current} of ${hdparm.native} native)`,
        );
      }
      return outside("hdparm -N", deviceBytes, driveBytes, `max sectors ${hdparm.current} = native ${hdparm.native}`);
    }
    case "nvme": {
      const nvme = smart.nvmeCapacity;
      if (!nvme || nvme.namespaceBytes.length === 0) return none("the NVMe drive did not list its namespaces");
      const total = nvme.totalBytes ?? null;
      if (nvme.namespaceBytes.length > 1) {
        return short("nvme namespaces", total, `the drive has ${nvme.namespaceBytes.length} namespaces: this device is one of them`);
      }
      if (nvme.unallocatedBytes && nvme.unallocatedBytes > 0) {
        return short("nvme namespaces", total, `${nvme.unallocatedBytes} bytes of the drive are in no namespace`);
      }
      const namespace = nvme.namespaceBytes[0] as number;
      if (total !== null && total > namespace) {
        return short("nvme namespaces", total, `the namespace holds ${namespace} of the drive's ${total} bytes`);
      }
      return outside("nvme namespaces", deviceBytes, namespace, `one namespace of ${namespace} bytes, none unallocated`);
    }
    case "scsi": {
      if (smart.capacityBytes === undefined) return none("the drive did not report its READ CAPACITY size");
      return outside("read capacity", deviceBytes, smart.capacityBytes, `READ CAPACITY ${smart.capacityBytes} bytes`);
    }
    default:
      return none(smart ? "no capacity check for this kind of drive" : "no SMART data: the drive's own capacity is unknown");
  }
}

/** The drive says `driveBytes`: reachable only when the device covers them all. */
function outside(method: CapacityCheck["method"], deviceBytes: number, driveBytes: number, said: string): CapacityCheck {
  const reachable = deviceBytes >= driveBytes;
  return {
    method,
    deviceBytes,
    driveBytes,
    wholeDriveReachable: reachable,
    detail: reachable
      ? `${said}: the device reaches all ${driveBytes} bytes`
      : `${said}, but the device is ${deviceBytes} bytes: ${driveBytes - deviceBytes} bytes are out of its reach`,
  };
}
