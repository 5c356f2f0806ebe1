// Checking a burn-in report: the signed JSON as a buyer received it, against this Kiln's report key
// (or a public key given with it). The reports themselves are files (/reports/<jobId>[.json|.pdf]).
import { ValidationError } from "../errors.js";
import { parseSignedReport, publicReportKey, reportClaims, type VerifyResult, verifyReport } from "../reports/signing.js";
import { builder } from "./builder.js";

/** A report is a few hundred kB at most; the request body limit (1 MiB) bounds it anyway. */
const MAX_REPORT_CHARS = 1_000_000;

const ReportCheckRef = builder.enumType("ReportCheck", {
  values: {
    valid: { description: "Signed by the key and unchanged since." },
    altered: { description: "Signed by the key, but the report or its signature was changed afterwards." },
    unknown_key: { description: "Not signed by the key it was checked against: another Kiln's report, or a forged key id." },
  } as const,
});

interface ReportVerification {
  result: VerifyResult;
  keyId: string;
  jobId: string | null;
  serial: string | null;
  outcome: string | null;
}

const ReportVerificationRef = builder.objectRef<ReportVerification>("ReportVerification").implement({
  description: "What a report's signature says. jobId, serial and outcome are read from the report: trust them only when valid.",
  fields: (t) => ({
    result: t.field({ type: ReportCheckRef, resolve: (v) => v.result }),
    keyId: t.exposeString("keyId", { description: "The key id the report names." }),
    jobId: t.exposeString("jobId", { nullable: true }),
    serial: t.exposeString("serial", { nullable: true }),
    outcome: t.exposeString("outcome", { nullable: true }),
  }),
});

builder.queryField("verifyReport", (t) =>
  t.field({
    type: ReportVerificationRef,
    description: "Check a signed burn-in report (its JSON file's text) against this Kiln's report key, or against publicKey (PEM).",
    args: {
      report: t.arg.string({ required: true }),
      publicKey: t.arg.string({ required: false, description: "A PEM public key; default: this Kiln's." }),
    },
    errors: { types: [ValidationError] },
    resolve: (_root, args, ctx) => {
      if (args.report.length > MAX_REPORT_CHARS) throw new ValidationError("report", `is longer than ${MAX_REPORT_CHARS} characters`);
      const signed = parseSignedReport(args.report);
      const key = args.publicKey ? publicReportKey(args.publicKey) : ctx.reportKey;
      const { result, keyId } = verifyReport(signed, [key]);
      const claims = reportClaims(signed);
      return { result, keyId, jobId: claims.jobId, serial: claims.serial, outcome: claims.verdict ?? claims.status };
    },
  }),
);
