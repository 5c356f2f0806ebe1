import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` (tools/dev.ts) serves the UI with hot reload and proxies the API to Kiln on port
// 4000: GraphQL (with its SSE and WebSocket subscriptions), sign-in, exports and health.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/graphql": { target: "http://127.0.0.1:4000", ws: true },
      "/auth": "http://127.0.0.1:4000",
      "/api": "http://127.0.0.1:4000",
      "/health": "http://127.0.0.1:4000",
      "/reports": "http://127.0.0.1:4000",
      "/.well-known": "http://127.0.0.1:4000",
    },
  },
});
