// Whether a drive can run the sanitize an operator asked for, asked of the drive itself through
// its host in one command: an NVMe controller's SANICAP (`nvme id-ctrl`), else an ATA drive's
// identify data and sanitize state (`hdparm -I`, `hdparm --sanitize-status`). Used when a job is
// started (a refusal names the drive and the reason) and again by the sanitize stage before it
// issues the command (the drive may have been swapped or frozen since).
import { parseHostJson } from "../parsers/host-json.js";
import {
  ataSanitizeMethods,
  nvmeSanitizeMethods,
  parseHdparmSanitizeStatus,
  SANITIZE_METHOD_WORDS,
  type SanitizeMethod,
  type SanitizeStatus,
} from "../parsers/sanitize.js";
import type { Transport } from "../transport/types.js";

export type SanitizeCommandSet = "nvme" | "ata";

export type SanitizeSupport =
  | { supported: true; commandSet: SanitizeCommandSet; methods: SanitizeMethod[]; status: SanitizeStatus | null }
  | { supported: false; reason: string };

/**
 * The probe: NVMe first (an ATA or loop device fails `nvme id-ctrl`), then ATA. Each answer is
 * printed after a line naming it; a tool the host lacks is said so.
 */
export const SANITIZE_PROBE_SCRIPT = `d=$1
if command -v nvme >/dev/null 2>&1; then
  if out=$(nvme id-ctrl "$d" -o json 2>/dev/null); then printf 'kiln-sanitize nvme\\n%s\\n' "$out"; exit 0; fi
else echo "kiln-sanitize no-nvme"; fi
if command -v hdparm >/dev/null 2>&1; then
  out=$(hdparm -I "$d" 2>&1)
  printf 'kiln-sanitize ata\\n%s\\n' "$out"
  printf 'kiln-sanitize ata-status\\n'
  hdparm --sanitize-status "$d" 2>&1
  exit 0
fi
echo "kiln-sanitize no-hdparm"
`;

/** The sections the probe printed, by name. */
function sections(text: string): Map<string, string> {
  const found = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  for (const line of text.split("\n")) {
    const head = /^kiln-sanitize (\S+)$/.exec(line);
    if (head) {
      if (name) found.set(name, lines.join("\n"));
      name = head[1] ?? null;
      lines = [];
      continue;
    }
    lines.push(line);
  }
  if (name) found.set(name, lines.join("\n"));
  return found;
}

/** What the probe's output says of the drive. Pure. */
export function readSanitizeProbe(output: string, busType: string | null): SanitizeSupport {
  const parts = sections(output);
  const nvme = parts.get("nvme");
  if (nvme !== undefined) {
    let methods: SanitizeMethod[] | null = null;
    try {
      methods = nvmeSanitizeMethods(parseHostJson(nvme, "nvme id-ctrl"));
    } catch {
      methods = null;
    }
    if (methods === null) return { supported: false, reason: "nvme id-ctrl gave no SANICAP field" };
    if (methods.length === 0) return { supported: false, reason: "the NVMe controller supports no sanitize operation (SANICAP 0)" };
    return { supported: true, commandSet: "nvme", methods, status: null };
  }
  if (busType === "sas" || busType === "scsi") {
    return { supported: false, reason: "it is a SAS/SCSI drive: Kiln does not run SCSI SANITIZE (sg_sanitize) yet" };
  }
  const identify = parts.get("ata");
  if (identify === undefined) {
    return {
      supported: false,
      reason: parts.has("no-hdparm")
        ? `the host has ${parts.has("no-nvme") ? "neither nvme (nvme-cli) nor hdparm" : "no hdparm"} installed to ask the drive`
        : "the probe printed nothing Kiln knows",
    };
  }
  const methods = ataSanitizeMethods(identify);
  if (methods === null) {
    return {
      supported: false,
      reason: `it answers neither nvme id-ctrl nor ATA IDENTIFY (hdparm -I), so no sanitize command reaches it${busType === "loop" || busType === "file" ? ` (a ${busType} device)` : ""}`,
    };
  }
  if (methods.length === 0) return { supported: false, reason: "the ATA drive does not support the SANITIZE feature set (hdparm -I)" };
  let status: SanitizeStatus | null = null;
  try {
    status = parseHdparmSanitizeStatus(parts.get("ata-status") ?? "");
  } catch {
    status = null;
  }
  if (status?.state === "frozen") {
    return {
      supported: false,
      reason:
        "its sanitize commands are frozen (SD1, a freeze lock the BIOS or the host set): power-cycle the drive (or hot-plug it) and start again",
    };
  }
  return { supported: true, commandSet: "ata", methods, status };
}

/** Why `method` cannot run on a drive of this support, or null when it can. */
export function sanitizeRefusal(support: SanitizeSupport, method: SanitizeMethod): string | null {
  if (!support.supported) return support.reason;
  if (support.methods.includes(method)) return null;
  return `it does not support ${SANITIZE_METHOD_WORDS[method]}; it supports ${support.methods.map((m) => `${m} (${SANITIZE_METHOD_WORDS[m]})`).join(", ")}`;
}

/** Ask the drive. Transport errors are thrown as they are (the caller says the host is unreachable). */
export async function probeSanitize(transport: Transport, device: string, busType: string | null): Promise<SanitizeSupport> {
  if (transport.kind === "demo") return { supported: false, reason: "the demo host's drives are files: they have no sanitize command" };
  const result = await transport.exec(["sh", "-c", SANITIZE_PROBE_SCRIPT, "kiln-sanitize", device], {
    timeoutMs: transport.commandTimeouts().smartMs,
    maxStdoutBytes: 256 * 1024,
  });
  return readSanitizeProbe(result.stdout.toString("utf8"), busType);
}
