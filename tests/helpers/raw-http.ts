// HTTP requests with full control over what is sent (Host header, content type, no
// Content-Length), as a browser on another site or a hostile client would send them.
import { request } from "node:http";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function rawRequest(
  baseUrl: string,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    chunked?: boolean;
    /** The address the request comes from (any of 127.0.0.0/8 reaches a loopback listener). */
    localAddress?: string;
  },
): Promise<RawResponse> {
  const url = new URL(options.path ?? "/graphql", baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: options.method ?? "POST",
        headers: options.headers,
        localAddress: options.localAddress,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on("error", reject);
    if (options.body !== undefined && options.chunked) {
      // Sent in pieces without a Content-Length (Transfer-Encoding: chunked).
      req.write(options.body.slice(0, 10));
      req.end(options.body.slice(10));
    } else if (options.body !== undefined) {
      req.setHeader("content-length", Buffer.byteLength(options.body));
      req.end(options.body);
    } else {
      req.end();
    }
  });
}
