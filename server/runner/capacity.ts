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
  const none = (detail: string): CapacityCheck => ({ method: "none", deviceBytes, driveBytes: null, wholeDriveReachable: false, detail });
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
        return {
          method: "hdparm -N",
          deviceBytes,
          driveBytes,
          wholeDriveReachable: false,
          detail: `a host protected area hides ${hidden} bytes (max sectors ${hdparm.current} of ${hdparm.native} native)`,
        };
      }
      return outside("hdparm -N", deviceBytes, driveBytes, `max sectors ${hdparm.current} = native ${hdparm.native}`);
    }
    case "nvme": {
      const nvme = smart.nvmeCapacity;
      if (!nvme || nvme.namespaceBytes.length === 0) return none("the NVMe drive did not list its namespaces");
      if (nvme.namespaceBytes.length > 1) {
        return {
          method: "nvme namespaces",
          deviceBytes,
          driveBytes: nvme.totalBytes ?? null,
          wholeDriveReachable: false,
          detail: `the drive has ${nvme.namespaceBytes.length} namespaces: this device is one of them`,
        };
      }
      if (nvme.unallocatedBytes && nvme.unallocatedBytes > 0) {
        return {
          method: "nvme namespaces",
          deviceBytes,
          driveBytes: nvme.totalBytes ?? null,
          wholeDriveReachable: false,
          detail: `${nvme.unallocatedBytes} bytes of the drive are in no namespace`,
        };
      }
      const namespace = nvme.namespaceBytes[0] as number;
      if (nvme.totalBytes !== undefined && nvme.totalBytes > namespace) {
        return {
          method: "nvme namespaces",
          deviceBytes,
          driveBytes: nvme.totalBytes,
          wholeDriveReachable: false,
          detail: `the namespace holds ${namespace} of the drive's ${nvme.totalBytes} bytes`,
        };
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
  if (deviceBytes < driveBytes) {
    return {
      method,
      deviceBytes,
      driveBytes,
      wholeDriveReachable: false,
      detail: `${said}, but the device is ${deviceBytes} bytes: ${driveBytes - deviceBytes} bytes are out of its reach`,
    };
  }
  return { method, deviceBytes, driveBytes, wholeDriveReachable: true, detail: `${said}: the device reaches all ${driveBytes} bytes` };
}
