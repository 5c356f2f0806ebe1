// A drive's own sanitize (NVMe Sanitize, ATA SANITIZE feature set): what it supports and how an
// operation it runs is going, from nvme-cli's and hdparm's output. Pure: no I/O.
//
// NVMe: `nvme id-ctrl DEV -o json` gives SANICAP (bit 0 crypto erase, bit 1 block erase, bit 2
// overwrite); `nvme sanitize-log DEV -o json` prints { "<dev>": { sprog, sstat: { status: "(2) ..." },
// cdw10_info, time_block_erase, ... } } (nvme-cli 2.x; 1.x gave sstat as a number).
// ATA: `hdparm -I DEV` lists "SANITIZE feature set" and, under it, "BLOCK_ERASE_EXT command",
// "CRYPTO_SCRAMBLE_EXT command", "OVERWRITE_EXT command"; `hdparm --sanitize-status DEV` prints
// "State: SD2 Sanitize operation In Process" and "Progress: 0x8000 (50%)".

export const SANITIZE_METHODS = ["block_erase", "crypto_erase", "overwrite"] as const;
export type SanitizeMethod = (typeof SANITIZE_METHODS)[number];

export const SANITIZE_METHOD_WORDS: Record<SanitizeMethod, string> = {
  block_erase: "block erase",
  crypto_erase: "crypto erase",
  overwrite: "overwrite",
};

/** in_progress, or how the last operation ended (none: the drive was never sanitized, or says nothing). */
export type SanitizeState = "none" | "in_progress" | "succeeded" | "failed" | "frozen";

export interface SanitizeStatus {
  state: SanitizeState;
  /** 0-100 while in progress (the drive's own figure), else null. */
  percent: number | null;
  /** NVMe: the action of the last sanitize command (cdw10), when the log names one. */
  lastMethod: SanitizeMethod | null;
  /** NVMe: the drive's estimate for each method in seconds, where it gives one. */
  estimateSeconds: Partial<Record<SanitizeMethod, number>>;
  /** The drive's words, for the stage log. */
  said: string;
}

const SANICAP_BITS: Array<[number, SanitizeMethod]> = [
  [0x1, "crypto_erase"],
  [0x2, "block_erase"],
  [0x4, "overwrite"],
];

/** The sanitize methods an NVMe controller supports, from `nvme id-ctrl -o json` (parsed). */
export function nvmeSanitizeMethods(idCtrl: unknown): SanitizeMethod[] | null {
  const sanicap = (idCtrl as { sanicap?: unknown } | null)?.sanicap;
  if (typeof sanicap !== "number" || !Number.isInteger(sanicap) || sanicap < 0) return null;
  return SANICAP_BITS.filter(([bit]) => (sanicap & bit) !== 0).map(([, method]) => method);
}

/** NVMe SANACT (Sanitize command, cdw10 bits 2:0) of each method. */
export const NVME_SANACT: Record<SanitizeMethod, number> = { block_erase: 2, overwrite: 3, crypto_erase: 4 };

const NVME_ESTIMATE_FIELDS: Array<[string, SanitizeMethod]> = [
  ["time_block_erase", "block_erase"],
  ["time_crypto_erase", "crypto_erase"],
  ["time_over_write", "overwrite"],
];

/** `nvme sanitize-log -o json` (parsed) of one device. */
export function parseNvmeSanitizeLog(json: unknown): SanitizeStatus {
  if (!json || typeof json !== "object") throw new Error("sanitize-log: not a JSON object");
  const root = json as Record<string, unknown>;
  // nvme-cli keys the log by the device name; a flat object (other versions) is taken as it is.
  const log = (("sprog" in root ? root : Object.values(root).find((v) => v && typeof v === "object" && "sprog" in v)) ?? null) as Record<
    string,
    unknown
  > | null;
  if (!log) throw new Error("sanitize-log: no sprog in the output");
  const sstat = log.sstat;
  const statusField = sstat && typeof sstat === "object" ? (sstat as Record<string, unknown>).status : sstat;
  const code =
    typeof statusField === "number"
      ? statusField & 0x7
      : typeof statusField === "string"
        ? Number(/^\s*\((\d+)\)/.exec(statusField)?.[1] ?? /^\s*(?:0x)?([0-9a-f]+)\s*$/i.exec(statusField)?.[1] ?? Number.NaN)
        : Number.NaN;
  if (!Number.isInteger(code)) throw new Error(`sanitize-log: unreadable status ${JSON.stringify(statusField)}`);
  // SSTAT bits 2:0: 0 never sanitized, 1 completed, 2 in progress, 3 failed, 4 completed without deallocation.
  const state: SanitizeState = code === 2 ? "in_progress" : code === 1 || code === 4 ? "succeeded" : code === 3 ? "failed" : "none";
  const sprog = typeof log.sprog === "number" ? log.sprog : null;
  const percent = state === "in_progress" && sprog !== null ? Math.min(100, Math.max(0, (sprog / 65536) * 100)) : null;
  const cdw10 = typeof log.cdw10_info === "number" ? log.cdw10_info & 0x7 : null;
  const lastMethod = (Object.entries(NVME_SANACT).find(([, sanact]) => sanact === cdw10)?.[0] ?? null) as SanitizeMethod | null;
  const estimateSeconds: Partial<Record<SanitizeMethod, number>> = {};
  for (const [field, method] of NVME_ESTIMATE_FIELDS) {
    const value = log[field];
    // 0xFFFFFFFF: no estimate reported.
    if (typeof value === "number" && value > 0 && value < 0xffffffff) estimateSeconds[method] = value;
  }
  const said = typeof statusField === "string" ? statusField.trim() : `status ${code}`;
  return { state, percent, lastMethod, estimateSeconds, said: percent === null ? said : `${said}, ${percent.toFixed(1)}%` };
}

const ATA_COMMANDS: Array<[RegExp, SanitizeMethod]> = [
  [/^\s*\*?\s*BLOCK_ERASE_EXT command\s*$/m, "block_erase"],
  [/^\s*\*?\s*CRYPTO_SCRAMBLE_EXT command\s*$/m, "crypto_erase"],
  [/^\s*\*?\s*OVERWRITE_EXT command\s*$/m, "overwrite"],
];

/**
 * The sanitize methods of an ATA drive from `hdparm -I`, or null when it printed no identify data
 * (a device that is not ATA, a bridge that does not pass the command through). hdparm lists only
 * what the drive supports (a leading `*`: enabled).
 */
export function ataSanitizeMethods(identify: string): SanitizeMethod[] | null {
  if (!/Commands\/features:/.test(identify)) return null;
  if (!/^\s*\*?\s*SANITIZE feature set\s*$/m.test(identify)) return [];
  return ATA_COMMANDS.filter(([line]) => line.test(identify)).map(([, method]) => method);
}

/** hdparm's sanitize command flag of each method (overwrite: one pass of zeros). */
export const HDPARM_SANITIZE_ARGS: Record<SanitizeMethod, string[]> = {
  block_erase: ["--sanitize-block-erase"],
  crypto_erase: ["--sanitize-crypto-scramble"],
  overwrite: ["--sanitize-overwrite-passes", "1", "--sanitize-overwrite", "hex:00000000"],
};

/** `hdparm --sanitize-status DEV`. */
export function parseHdparmSanitizeStatus(text: string): SanitizeStatus {
  const stateLine = /State:\s*(SD\d)\b[^\n]*/.exec(text);
  if (!stateLine) throw new Error(`hdparm --sanitize-status: no state in ${JSON.stringify(text.trim().slice(0, 200))}`);
  const sd = stateLine[1];
  const progress = /Progress:\s*0x([0-9a-f]+)/i.exec(text);
  let state: SanitizeState;
  if (sd === "SD2") state = "in_progress";
  else if (sd === "SD1") state = "frozen";
  else if (sd === "SD3") state = "failed";
  else if (/Last Sanitize Operation Completed Without Error/i.test(text) || sd === "SD4") state = "succeeded";
  else if (/Last Sanitize Command completed unsuccessfully/i.test(text)) state = "failed";
  else state = "none";
  const percent = state === "in_progress" && progress ? Math.min(100, (Number.parseInt(progress[1] ?? "0", 16) / 65536) * 100) : null;
  const said = stateLine[0].replace(/^State:\s*/, "").trim();
  return { state, percent, lastMethod: null, estimateSeconds: {}, said: percent === null ? said : `${said}, ${percent.toFixed(1)}%` };
}
