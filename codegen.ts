// graphql-codegen: typed documents for the web client from the committed schema.graphql
// (printed from the Pothos schema by tools/print-schema.ts).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["client/src/**/*.{ts,tsx}", "!client/src/gql/**/*"],
  ignoreNoDocuments: true,
  generates: {
    "client/src/gql/": {
      preset: "client",
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string" },
      },
      // Each component reads only the fields of its own fragment (useFragment), declared beside it.
      presetConfig: { fragmentMasking: { unmaskFunctionName: "useFragment" } },
    },
    // The schema's shape for graphcache: which types implement Error, which union members exist.
    "client/src/gql/introspection.ts": {
      plugins: ["urql-introspection"],
      config: { module: "es2015", useTypeImports: true },
    },
  },
  silent: true,
};

export default config;
