// What a POST to /graphql must look like before Kiln reads it. Only JSON bodies are executed: a
// web page can send a form or multipart POST to any address without asking (no CORS preflight),
// so those are refused (CSRF). The body must say its length, and at most MAX_BODY_BYTES: nobody
// gets to make Kiln parse 10 MB.
import type { Plugin } from "graphql-yoga";

export const MAX_BODY_BYTES = 1 << 20;
const JSON_TYPES = new Set(["application/json", "application/graphql-response+json"]);

export function useRequestLimits(): Plugin {
  return {
    onRequest({ request, fetchAPI, endResponse }) {
      if (request.method !== "POST") return;
      const refuse = (status: number, message: string) =>
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message }] }), {
            status,
            headers: { "content-type": "application/json; charset=utf-8" },
          }),
        );
      const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
      if (!JSON_TYPES.has(type)) {
        return refuse(415, `POST bodies must be application/json (got ${type ? `"${type.slice(0, 100)}"` : "none"})`);
      }
      const length = request.headers.get("content-length");
      if (length === null || !/^\d+$/.test(length)) return refuse(411, "POST requests must send a Content-Length");
      if (Number(length) > MAX_BODY_BYTES) return refuse(413, `request body of ${length} bytes is over the limit of ${MAX_BODY_BYTES}`);
    },
  };
}
