import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The dev server proxies the API to a Kiln started with `npm run dev` (port 4000).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true },
  server: { proxy: { "/graphql": "http://127.0.0.1:4000", "/health": "http://127.0.0.1:4000" } },
});
